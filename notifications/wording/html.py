"""The HTML version of an email, drawn at send time from its text and the small layout kept with it.

The layout (``templates/notifications/email/layout.html``) shows the text's paragraphs between the
facts of the promise, one button and a footer; the facts' words are kept with the message when it
is written (``layout["words"]``), so the HTML says what was true then.
"""

import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.template import Context
from django.utils import translation
from django.utils.translation import gettext

from commitments.languages import catalog_for
from notifications.wording.templates import compiled

# The words the HTML version shows around the text, kept with the message when it is written.
STAFF_HTML_WORDS = (
    "customer_contact",
    "summary",
    "owner_name",
    "due",
    "status_label",
    "commitment_url",
    "team_name",
    "team_zone",
)
CUSTOMER_HTML_WORDS = ("first_name", "summary", "owner_name", "team_name", "status_url")
_CUSTOMER_HTML_WORDS = {
    (due, next_contact): CUSTOMER_HTML_WORDS + (("due",) if due else ()) + (("next_contact",) if next_contact else ())
    for due in (False, True)
    for next_contact in (False, True)
}


def html_words(form: str, structure: Mapping[str, Any]) -> tuple[str, ...]:
    """The words an email of this ``form`` (``customer`` or ``staff``) keeps for its HTML version."""
    if form == "staff":
        return STAFF_HTML_WORDS
    # The customer's facts show the due time and the next update where the status has them.
    return _CUSTOMER_HTML_WORDS[bool(structure["shows_due"]), bool(structure["shows_next"])]


def email_layout(form: str, words: dict[str, str], *, start: int, end: int) -> dict[str, Any]:
    """What the HTML version needs beyond the subject and text: where the body is, and the facts' words."""
    return {"form": form, "body": [start, end], "words": words}


def email_html(*, subject: str, text: str, layout: Mapping[str, Any]) -> str:
    """The HTML version of an email, from its text and the layout kept with it ("" without one)."""
    if "body" not in layout:  # No layout, or only the language of a plain-text message.
        return ""
    start, end = layout["body"]
    # A customer's email is drawn in the language its text was written in; staff read English.
    language = layout.get("language")
    with translation.override(catalog_for(language) if language else settings.LANGUAGE_CODE):
        context = _html_context(layout["form"], layout["words"], layout.get("heading") or subject, text[start:end])
        return str(compiled("notifications/email/layout.html").render(Context(context, autoescape=True)))


def _paragraphs(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"\n\s*\n", text) if part.strip()]


def _html_context(form: str, words: Mapping[str, str], subject: str, body: str) -> dict[str, Any]:
    """What the HTML layout shows around the body: facts, the one button, the footer."""
    paragraphs = _paragraphs(body)
    common = {
        "subject": subject,
        "heading": subject,
        "preheader": paragraphs[0] if paragraphs else subject,
        "paragraphs": paragraphs,
        "team_name": words["team_name"],
    }
    if form == "staff":
        return {
            **common,
            "greeting": "",
            "facts": [
                ("Customer", words["customer_contact"]),
                ("Promise", words["summary"]),
                ("Owner", words["owner_name"]),
                ("Due", words["due"]),
                ("Status", words["status_label"]),
            ],
            "action_url": words["commitment_url"],
            "action_label": "Open the commitment",
            "signature": "",
            "footer": f"Followthrough, {words['team_name']}. Times are the team's: {words['team_zone']}.",
        }
    facts = [
        (gettext("Our promise"), words["summary"]),
        (gettext("Owner"), f"{words['owner_name']}, {words['team_name']}"),
    ]
    if "due" in words:
        facts.append((gettext("Due"), words["due"]))
    if "next_contact" in words:
        facts.append((gettext("Next update"), gettext("by %(time)s") % {"time": words["next_contact"]}))
    return {
        **common,
        "language": translation.get_language(),
        "greeting": gettext("Hi %(first_name)s,") % {"first_name": words["first_name"]},
        "facts": facts,
        "action_url": words["status_url"],
        "action_label": gettext("See where it stands"),
        "signature": f"{words['owner_name']}\n{words['team_name']}",
        "footer": gettext(
            "You receive this because %(team)s made you a promise. Your status page lets you change how we reach you."
        )
        % {"team": words["team_name"]},
    }
