"""What each message says: templates per kind under ``templates/notifications/``.

Each kind has one template with a ``subject``, a ``body`` (the email text) and, for customers, an
``sms`` block. The email body is wrapped in a text layout and an HTML layout, so every customer
email carries the status link, the owner and the team the same way. Customers read times in their
own zone; staff in their team's zone. The words are plain: no hedging, no "if" in an apology.

A message is written when it is made (its subject and text are what the outbox, the API and the
customer's status page show); its HTML version is drawn at send time from that text and a small
``layout`` kept beside it (the facts around the text, as they were when it was made), so the
outbox does not store a few kilobytes of markup per message.
"""

import math
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any, ClassVar

from django.conf import settings
from django.template import Context
from django.template.base import Template as CompiledTemplate
from django.template.loader import get_template
from django.template.loader_tags import BlockNode
from django.urls import get_script_prefix, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import User
from commitments.languages import catalog_for
from commitments.models import RUNNING_STATUSES, STATUS_PHRASES, Channel, Commitment, Status
from commitments.status_links import status_url
from notifications import quiet_hours, team_templates
from notifications.models import Kind
from notifications.segments import (
    SMS_SEGMENTS as SMS_SEGMENTS,
)
from notifications.segments import (
    _limit,
    gsm_friendly,
    shorten,
    sms_length,
)
from notifications.segments import (
    is_gsm7 as is_gsm7,
)
from notifications.segments import (
    sms_encoding as sms_encoding,
)
from notifications.segments import (
    sms_limit as sms_limit,
)
from notifications.segments import (
    sms_segments as sms_segments,
)
from notifications.segments import (
    text_length as text_length,
)
from notifications.time_words import (
    _in_language,
    as_phrase,
    as_sentence,
    describe_duration,
    every,
    first_name,
    long_time,
    readable_phone,
    short_time,
)

SUBJECT_LIMIT = 200

# What a customer is told on a call, by the kind of message the call stands for.
CALL_TOPICS: dict[str, str] = {
    Kind.ACKNOWLEDGEMENT: "confirm our promise",
    Kind.STATUS_UPDATE: "give a status update",
    Kind.RESCHEDULE: "tell them the new time",
    Kind.WAITING: "ask for what we need",
    Kind.RESOLUTION: "tell them it is done",
    Kind.SATISFACTION_CHECK: "ask whether it is solved",
    Kind.APOLOGY: "apologise for the missed promise",
    Kind.CANCELLATION: "tell them it is cancelled",
}


@dataclass(frozen=True)
class Content:
    """A written message: subject and text, and for an email the ``layout`` its HTML is drawn from."""

    subject: str
    text: str
    layout: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def html(self) -> str:
        """The HTML version of an email (empty for a text or a call script)."""
        return email_html(subject=self.subject, text=self.text, layout=self.layout)


# --- Templates ------------------------------------------------------------------------------


# Compiled templates, looked up again at most once a second: Django's cached loader costs a few
# microseconds a look-up, a sweep writes thousands of messages a second, and a template edited
# in development still shows within the second.
TEMPLATE_RECHECK = 1.0
_templates: dict[str, tuple[float, CompiledTemplate]] = {}


def _compiled(name: str) -> CompiledTemplate:
    now = time.monotonic()
    known = _templates.get(name)
    if known is None or now - known[0] > TEMPLATE_RECHECK:
        known = _templates[name] = (now, get_template(name).template)  # type: ignore[attr-defined]
    return known[1]


def use_compiled(name: str, template: CompiledTemplate) -> None:
    """Keep a template compiled elsewhere under ``name`` (a team's own wording, never changed once saved)."""
    _templates[name] = (math.inf, template)


def is_compiled(name: str) -> bool:
    return name in _templates


def forget_compiled(name: str) -> None:
    _templates.pop(name, None)


def _render_blocks(name: str, context: Mapping[str, Any], blocks: tuple[str, ...]) -> dict[str, str]:
    """Render the named ``{% block %}``s of one template as plain text (no HTML escaping)."""
    compiled = _compiled(name)
    nodes: dict[str, BlockNode] = {
        node.name: node for node in compiled.nodelist.get_nodes_by_type(BlockNode) if isinstance(node, BlockNode)
    }
    rendered: dict[str, str] = {}
    ctx = Context(dict(context), autoescape=False)
    with ctx.render_context.push_state(compiled), ctx.bind_template(compiled):
        for block in blocks:
            node = nodes.get(block)
            # Django marks what it renders as safe HTML; these are plain words, to be escaped in HTML.
            rendered[block] = str.__str__(node.render(ctx)) if node is not None else ""
    return rendered


def _render_text(name: str, context: Mapping[str, Any]) -> str:
    """A whole plain-text template (no HTML escaping)."""
    return str.__str__(_compiled(name).render(Context(dict(context), autoescape=False)))


def _tidy(text: str) -> str:
    """Template whitespace out: no trailing spaces, no runs of blank lines."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def _tidy_words(text: str) -> str:
    """Free text on several lines, tidied as ``_tidy`` tidies the message it goes into."""
    if text.isprintable():  # No line break of any kind: nothing to tidy.
        return text
    lines = text.splitlines()
    if len(lines) < 2:
        return text
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in lines))


def _paragraphs(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"\n\s*\n", text) if part.strip()]


# --- Words: worked out when a message first needs them --------------------------------------


class Words(dict[str, str]):
    """The words of one message, each worked out the first time a template asks for it.

    A status update needs five of the twenty words a customer message can carry, and working out
    a time in the customer's zone costs more than filling it in: so the cheap words that may be
    empty (and so choose a template branch) are set at once, and the rest (times, links) wait in
    ``LATER`` until asked for. Values that choose a branch without being words (``is_missed``,
    ``occasion``, ``step``) are the message's ``structure``.
    """

    LATER: ClassVar[Mapping[str, Callable[[Any], str]]] = {}

    def __init__(self) -> None:
        super().__init__()
        self.names: tuple[str, ...] = ()  # every word this message knows
        self.eager: tuple[str, ...] = ()  # the words set at once, that may be empty
        self.structure: dict[str, Any] = {}
        self._empty: tuple[str, ...] | None = None
        # The language the words are written in: the active one when they are made.
        self.language: str = translation.get_language() or settings.LANGUAGE_CODE

    def __missing__(self, name: str) -> str:
        work_out = self.LATER.get(name)
        if work_out is None:
            raise KeyError(name)
        word = self[name] = work_out(self)
        return word

    def empty(self) -> tuple[str, ...]:
        """The words that are empty: with the structure, they make the message's shape."""
        if self._empty is None:
            self._empty = tuple(name for name in self.eager if not self[name])
        return self._empty

    def context(self, structure: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Every word and the structure, to render a template directly."""
        return {**(self.structure if structure is None else structure), **{name: self[name] for name in self.names}}


def next_contact_time(commitment: Commitment, *, now: datetime) -> datetime | None:
    """When the customer hears from us next at the latest: the next update, or the due time."""
    if commitment.status in RUNNING_STATUSES and commitment.due_at > now:
        if commitment.next_update_at is None:
            return commitment.due_at
        return min(commitment.next_update_at, commitment.due_at)
    if commitment.status in (Status.WAITING, Status.MISSED, *RUNNING_STATUSES):
        return commitment.next_update_at
    return None


# The statuses whose messages show the due time, and when the customer hears from us next.
SHOWS_DUE = frozenset((*RUNNING_STATUSES, Status.MISSED))
SHOWS_NEXT = frozenset((*RUNNING_STATUSES, Status.MISSED, Status.WAITING))


class CustomerWords(Words):
    """What a message to the customer can say, in the customer's zone."""

    NAMES: ClassVar[tuple[str, ...]] = (
        "first_name",
        "customer_name",
        "summary",
        "owner_name",
        "team_name",
        "message",
        "reason",
        "request",
        "waiting_request",
        "resolution",
        "due",
        "due_short",
        "next_contact",
        "next_contact_short",
        "since",
        "since_short",
        "fulfilled",
        "satisfaction_on",
        "status_url",
    )
    EAGER = NAMES[:10]
    LATER: ClassVar[Mapping[str, Callable[[Any], str]]] = {
        "due": lambda words: long_time(words.commitment.due_at, words.zone, now=words.now, language=words.language),
        "due_short": lambda words: short_time(words.commitment.due_at, words.zone, language=words.language),
        "next_contact": lambda words: long_time(words.next_contact, words.zone, now=words.now, language=words.language),
        "next_contact_short": lambda words: short_time(words.next_contact, words.zone, language=words.language),
        "since": lambda words: long_time(words.since, words.zone, now=words.now, language=words.language),
        "since_short": lambda words: short_time(words.since, words.zone, language=words.language),
        "fulfilled": lambda words: long_time(
            words.commitment.fulfilled_at or words.now, words.zone, now=words.now, language=words.language
        ),
        "satisfaction_on": lambda words: long_time(
            words.commitment.satisfaction_due_at or (words.now + settings.FOLLOWTHROUGH_SATISFACTION_AFTER),
            words.zone,
            now=words.now,
            language=words.language,
        ),
        "status_url": lambda words: status_url(words.commitment),
    }

    def __init__(
        self, commitment: Commitment, *, message: str = "", since: datetime | None = None, now: datetime | None = None
    ) -> None:
        super().__init__()
        self.commitment = commitment
        self.now = now or timezone.now()
        customer = commitment.customer
        self.zone = customer.zone
        self.since = since or commitment.last_update_at or commitment.created_at
        status = commitment.status
        self.names, self.eager = self.NAMES, self.EAGER
        self.structure = {
            "is_waiting": status == Status.WAITING,
            "is_missed": status == Status.MISSED,
            "is_reopened": status == Status.REOPENED,
            "shows_due": status in SHOWS_DUE,
            "shows_next": status in SHOWS_NEXT,
        }
        said = _tidy_words(as_sentence(message))
        self.update(
            first_name=first_name(customer.name),
            customer_name=customer.name,
            summary=as_phrase(commitment.summary),
            owner_name=commitment.owner.display_name,
            team_name=commitment.team.name,
            message=said,
            reason=said,
            request=_tidy_words(as_sentence(message or commitment.waiting_request)),
            waiting_request=_tidy_words(as_sentence(commitment.waiting_request)),
            resolution=_tidy_words(as_sentence(message or commitment.resolution)),
        )

    @cached_property
    def next_contact(self) -> datetime:
        return next_contact_time(self.commitment, now=self.now) or self.now


def _commitment_path(pk: int) -> str:
    prefix, suffix = _commitment_path_around_id(get_script_prefix())
    return f"{prefix}{pk}{suffix}"


@lru_cache(maxsize=8)
def _commitment_path_around_id(script_prefix: str) -> tuple[str, str]:
    prefix, _, suffix = reverse("commitments:detail", args=[987654321]).partition("987654321")
    return prefix, suffix


def _call_phone(words: "StaffWords") -> str:
    phone = words.commitment.customer.phone
    # Written out for reading aloud only where someone is to call (it costs a parse).
    return (readable_phone(phone) if words.calling else phone) or "(no number on file)"


def _last_update(words: "StaffWords") -> str:
    moment = words.commitment.last_update_at
    return long_time(moment, words.zone, now=words.now, language=words.language) if moment else "none"


def _next_update(words: "StaffWords") -> str:
    moment = words.commitment.next_update_at
    return long_time(moment, words.zone, now=words.now, language=words.language) if moment else "none"


class StaffWords(Words):
    """What a message to staff can say, in the team's zone; ``details`` add words and structure.

    The same words serve every recipient: only ``is_owner`` differs, and it is structure.
    """

    NAMES: ClassVar[tuple[str, ...]] = (
        "summary",
        "customer_name",
        "customer_contact",
        "owner_name",
        "team_name",
        "team_zone",
        "status_label",
        "message",
        "phone",
        "due",
        "time_left",
        "overdue",
        "every_interval",
        "last_update",
        "next_update",
        "status_url",
        "commitment_url",
    )
    EAGER = NAMES[:8]
    LATER: ClassVar[Mapping[str, Callable[[Any], str]]] = {
        "phone": _call_phone,
        "due": lambda words: long_time(words.commitment.due_at, words.zone, now=words.now, language=words.language),
        "time_left": lambda words: describe_duration(words.commitment.due_at - words.now),
        "overdue": lambda words: describe_duration(words.now - words.commitment.due_at),
        "every_interval": lambda words: every(words.commitment.update_interval),
        "last_update": _last_update,
        "next_update": _next_update,
        "status_url": lambda words: status_url(words.commitment),
        "commitment_url": lambda words: f"{settings.SITE_URL}{_commitment_path(words.commitment.pk)}",
    }
    # Details that choose a branch although they are strings.
    STRUCTURAL = frozenset({"occasion"})

    def __init__(
        self,
        commitment: Commitment,
        *,
        message: str = "",
        details: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> None:
        super().__init__()
        self.commitment = commitment
        self.now = now or timezone.now()
        team = commitment.team
        self.zone = team.zone
        customer = commitment.customer
        contact = ", ".join(part for part in (customer.email, customer.phone) if part)
        self.calling = bool(details and "call_kind" in details)
        self.update(
            summary=as_phrase(commitment.summary),
            customer_name=customer.name,
            customer_contact=f"{customer.name} ({contact})" if contact else customer.name,
            owner_name=commitment.owner.display_name,
            team_name=team.name,
            team_zone=team.timezone,
            status_label=STATUS_PHRASES.get(commitment.status, commitment.status),
            message=_tidy_words(as_sentence(message)),
        )
        names, eager = list(self.NAMES), list(self.EAGER)
        self.structure = {"occasion": ""}
        self.moments: dict[str, datetime] = {}
        for key, value in (details or {}).items():
            if isinstance(value, datetime):
                self.moments[key] = value
                self.pop(key, None)
            elif isinstance(value, str) and key not in self.STRUCTURAL:
                self[key] = _tidy_words(value)
                eager.append(key)
            else:
                self.structure[key] = value
                continue
            if key not in names:
                names.append(key)
        if self.calling:
            self["call_topic"] = CALL_TOPICS.get(details["call_kind"], "talk it through")  # type: ignore[index]
            names.append("call_topic")
            eager.append("call_topic")
        self.names, self.eager = tuple(names), tuple(dict.fromkeys(eager))

    def __missing__(self, name: str) -> str:
        moment = self.moments.get(name)
        if moment is None:
            return super().__missing__(name)
        word = self[name] = long_time(moment, self.zone, now=self.now, language=self.language)
        return word

    def for_recipient(self, recipient: User | None) -> dict[str, Any]:
        """The structure of the message to this member of staff."""
        return {**self.structure, "is_owner": recipient is not None and recipient.pk == self.commitment.owner_id}


# --- Frames: each template rendered once per shape, then filled in ----------------------------
#
# A sweep writes thousands of messages that differ only in their words (names, times, links),
# not in their shape (which ``{% if %}`` branches hold). So each template is rendered once per
# shape with markers in place of the words and kept as a format string, and each message fills
# in only the words its frame names. A template whose markers do not come through intact (a
# filter that changed a word) is simply rendered directly every time.

_MARK = re.compile("\x02([a-z_]+)\x03")
_BODY = "\x02body\x03"
_FRAME_LIMIT = 2000


@dataclass(frozen=True)
class _Frame:
    """Format strings: the subject, and the text as what comes before, in and after the body."""

    subject: str
    head: str
    body: str
    tail: str


_frames: dict[tuple[Any, ...], _Frame | None] = {}


def _shape(form: str, template: str, words: Words, structure: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        form,
        template,
        id(_compiled(template)),
        tuple(structure.items()),
        words.names,
        words.empty(),
        words.language,  # The same shape reads differently in each language.
    )


def _marked(words: Words, structure: Mapping[str, Any]) -> dict[str, Any]:
    empty = set(words.empty())
    return {**structure, **{name: "" if name in empty else f"\x02{name}\x03" for name in words.names}}


def _as_format(rendered: str, names: Iterable[str]) -> str | None:
    """The rendered text as a format string (``{summary}`` where a word goes), or None if a marker broke."""
    known = set(names)
    parts = _MARK.split(rendered)
    for index in range(0, len(parts), 2):
        literal = parts[index]
        if "\x02" in literal or "\x03" in literal:
            return None
        parts[index] = literal.replace("{", "{{").replace("}", "}}")
    for index in range(1, len(parts), 2):
        if parts[index] not in known:
            return None
        parts[index] = f"{{{parts[index]}}}"
    return "".join(parts)


def _around_body(form: str, context: Mapping[str, Any]) -> tuple[str, str] | None:
    """The email's text layout (``notifications/email/<form>.txt``) as what comes before and after the body."""
    text = _tidy(_render_text(f"notifications/email/{form}.txt", {**context, "body": _BODY}))
    head, found, tail = text.partition(_BODY)
    return (head, tail) if found and _BODY not in tail else None


def _build_frame(form: str, template: str, words: Words, structure: Mapping[str, Any]) -> _Frame | None:
    marked = _marked(words, structure)
    parts = _render_blocks(template, marked, ("subject", "body"))
    subject, body = _as_format(parts["subject"], words.names), _as_format(_tidy(parts["body"]), words.names)
    head: str | None = ""
    tail: str | None = ""
    if form != "script":
        around = _around_body(form, marked)
        if around is None:
            return None
        head, tail = _as_format(around[0], words.names), _as_format(around[1], words.names)
    if subject is None or head is None or tail is None or not body:
        return None
    return _Frame(subject, head, body, tail)


def _frame(form: str, template: str, words: Words, structure: Mapping[str, Any]) -> _Frame | None:
    key = _shape(form, template, words, structure)
    try:
        return _frames[key]
    except KeyError:
        pass
    if len(_frames) >= _FRAME_LIMIT:
        _frames.clear()
    frame = _frames[key] = _build_frame(form, template, words, structure)
    return frame


def _compose(form: str, template: str, words: Words, structure: Mapping[str, Any]) -> Content:
    """One message: ``form`` is ``customer`` or ``staff`` (an email) or ``script`` (what to say on a call)."""
    frame = _frame(form, template, words, structure)
    if frame is None:
        direct = _render_directly(form, template, words.context(structure))
        subject = gsm_friendly(direct.subject)[:SUBJECT_LIMIT]
        layout = dict(direct.layout)
        if layout and subject != direct.subject:
            layout["heading"] = direct.subject
        return Content(subject, direct.text, layout)
    heading = frame.subject.format_map(words)
    subject = gsm_friendly(heading)[:SUBJECT_LIMIT]
    body = frame.body.format_map(words)
    if form == "script":
        return Content(subject, body)
    head = frame.head.format_map(words)
    shown = {name: words[name] for name in _html_words(form, structure)}
    layout = _layout(form, shown, start=len(head), end=len(head) + len(body))
    if heading != subject:
        layout["heading"] = heading
    return Content(subject, f"{head}{body}{frame.tail.format_map(words)}", layout)


def _render_directly(form: str, template: str, context: Mapping[str, Any]) -> Content:
    """Render one message through the templates, word by word (the subject as the template wrote it)."""
    parts = _render_blocks(template, context, ("subject", "body"))
    subject, body = parts["subject"], _tidy(parts["body"])
    if form == "script":
        return Content(subject, body)
    around = _around_body(form, context)
    if around is None or not body:
        text = _tidy(_render_text(f"notifications/email/{form}.txt", {**context, "body": body}))
        return Content(subject, text)
    head, tail = around
    shown = {name: context[name] for name in _html_words(form, context)}
    layout = _layout(form, shown, start=len(head), end=len(head) + len(body))
    return Content(subject, f"{head}{body}{tail}", layout)


def _layout(form: str, words: dict[str, str], *, start: int, end: int) -> dict[str, Any]:
    """What the HTML version needs beyond the subject and text: where the body is, and the facts' words."""
    return {"form": form, "body": [start, end], "words": words}


# --- HTML, drawn at send time -----------------------------------------------------------------

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


def _html_words(form: str, structure: Mapping[str, Any]) -> tuple[str, ...]:
    if form == "staff":
        return STAFF_HTML_WORDS
    # The customer's facts show the due time and the next update where the status has them.
    return (
        CUSTOMER_HTML_WORDS
        + (("due",) if structure["shows_due"] else ())
        + (("next_contact",) if structure["shows_next"] else ())
    )


def email_html(*, subject: str, text: str, layout: Mapping[str, Any]) -> str:
    """The HTML version of an email, from its text and the layout kept with it ("" without one)."""
    if "body" not in layout:  # No layout, or only the language of a plain-text message.
        return ""
    start, end = layout["body"]
    # A customer's email is drawn in the language its text was written in; staff read English.
    language = layout.get("language")
    with translation.override(catalog_for(language) if language else settings.LANGUAGE_CODE):
        context = _html_context(layout["form"], layout["words"], layout.get("heading") or subject, text[start:end])
        return str(_compiled("notifications/email/layout.html").render(Context(context, autoescape=True)))


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


# --- Customer messages ----------------------------------------------------------------------


def customer_context(
    commitment: Commitment,
    *,
    message: str = "",
    since: datetime | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Every word a customer message can use, and its structure (for rendering a template directly)."""
    return CustomerWords(commitment, message=message, since=since, now=now).context()


def render_customer_message(
    commitment: Commitment,
    kind: str,
    *,
    message: str = "",
    channel: str = Channel.EMAIL,
    since: datetime | None = None,
    now: datetime | None = None,
    template: str | None = None,
) -> Content:
    """The customer's message of this kind: email (subject, text and layout) or a short text.

    For the phone channel the content is the script the owner reads out: the email's words.
    """
    language = commitment.customer.language_code
    with _in_language(catalog_for(language)):
        words = CustomerWords(commitment, message=message, since=since, now=now)
        template = template or customer_template(commitment, kind)
        if channel == Channel.SMS:
            return Content(subject="", text=_fit_sms(template, words, language=language))
        content = _compose("script" if channel == Channel.PHONE else "customer", template, words, words.structure)
    if content.layout:
        # The HTML is drawn at send time in this language, and the email says which it is.
        return Content(content.subject, content.text, {**content.layout, "language": language})
    return content


def customer_template(commitment: Commitment, kind: str) -> str:
    """The template a customer message is written with: the team's own wording for the kind, if any.

    A team writes its wording in the product's default language (FOLLOWTHROUGH_LANGUAGE); a customer
    who reads another language gets the product's translated wording instead of words they can't read.
    """
    default = f"notifications/customer/{kind}.txt"
    if catalog_for(commitment.customer.language_code) != catalog_for(settings.FOLLOWTHROUGH_LANGUAGE):
        return default
    return team_templates.template_for(commitment.team, kind) or default


# The free text a long message gives up first, in this order; never the link or the times.
SHORTENED_FIRST = ("message", "reason", "request", "waiting_request", "resolution", "summary")


@dataclass(frozen=True)
class _SmsFrame:
    text: str
    names: tuple[str, ...]


_sms_frames: dict[tuple[Any, ...], _SmsFrame | None] = {}


def _sms_frame(template: str, words: Words) -> _SmsFrame | None:
    key = _shape("sms", template, words, words.structure)
    if key not in _sms_frames:
        if len(_sms_frames) >= _FRAME_LIMIT:
            _sms_frames.clear()
        marked = gsm_friendly(_render_blocks(template, _marked(words, words.structure), ("sms",))["sms"])
        text = _as_format(marked, words.names)
        names = tuple(dict.fromkeys(_MARK.findall(marked)))
        _sms_frames[key] = _SmsFrame(text, names) if text is not None else None
    return _sms_frames[key]


def _fit_sms(template: str, words: Words, *, language: str | None = None) -> str:
    """The text block as one GSM-7 friendly line of at most two segments, status link kept."""
    frame = _sms_frame(template, words)
    names = frame.names if frame else words.names
    said = {name: gsm_friendly(words[name]) for name in names}

    def write() -> str:
        if frame:
            return frame.text.format_map(said)
        return gsm_friendly(_render_blocks(template, {**words.structure, **said}, ("sms",))["sms"])

    text = write()
    for name in SHORTENED_FIRST:
        length, encoding = sms_length(text, language=language)
        excess = length - _limit(encoding)
        if excess <= 0:
            break
        if said.get(name) and said[name] in text:
            said[name] = shorten(said[name], excess)
            text = write()
    link = said.get("status_url") or gsm_friendly(words["status_url"])
    if link not in text:  # Every message to a customer carries the link.
        text = f"{text} {link}"
    return text


# --- Staff messages -------------------------------------------------------------------------


def staff_context(
    commitment: Commitment,
    *,
    recipient: User | None,
    message: str = "",
    details: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Every word a staff message can use, and its structure (for rendering a template directly)."""
    words = StaffWords(commitment, message=message, details=details, now=now)
    return words.context(words.for_recipient(recipient))


def render_staff_message(
    commitment: Commitment,
    kind: str,
    *,
    message: str = "",
    recipient: User | None = None,
    details: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> Content:
    """An email to a member of staff, in the team's time zone, linking to the commitment.

    ``details`` adds to what the template knows; for an ``escalation``, ``occasion`` says which:
    ``warning`` (with ``step`` and ``last_step``), ``missed``, ``reminder`` or ``call_not_made``.
    """
    [content] = render_staff_messages(
        commitment, kind, recipients=[recipient], message=message, details=details, now=now
    )
    return content


def render_staff_messages(
    commitment: Commitment,
    kind: str,
    *,
    recipients: Iterable[User | None],
    message: str = "",
    details: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> list[Content]:
    """The same email to several members of staff (the owner reads "your promise", a lead the owner's name)."""
    with _in_language(settings.LANGUAGE_CODE):  # Staff read English, whoever the customer is.
        words = StaffWords(commitment, message=message, details=details, now=now)
        template = f"notifications/staff/{kind}.txt"
        return [_compose("staff", template, words, words.for_recipient(recipient)) for recipient in recipients]


def render_call_task(
    commitment: Commitment,
    customer_kind: str,
    *,
    script: str,
    recipient: User | None,
    escalate_at: datetime,
    now: datetime | None = None,
) -> Content:
    """The owner's task to call a customer who prefers the phone, with what to say."""
    now = now or timezone.now()
    zone = commitment.customer.zone
    allowed = quiet_hours.text_allowed_from(now, zone)
    details = {
        "call_kind": customer_kind,
        "script": script,
        "escalate_at": escalate_at,
        "customer_now": short_time(now, zone, language=settings.LANGUAGE_CODE),
        "call_from": short_time(allowed, zone, language=settings.LANGUAGE_CODE) if allowed > now else "",
    }
    return render_staff_message(commitment, Kind.CALL_TASK, recipient=recipient, details=details, now=now)
