"""The render functions: every message the product sends, written from its template and its words.

``render_customer_message`` writes a customer's email, text or call script; ``render_staff_messages``
an email to staff; ``render_call_task`` the owner's task to call a customer. A message is written
when it is made (its subject and text are what the outbox, the API and the status page show); its
HTML version is drawn at send time (``html.email_html``).
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from commitments.languages import catalog_for
from commitments.models import Channel, Commitment
from notifications import quiet_hours, team_templates
from notifications.models import MessageKind
from notifications.time_words import short_time
from notifications.wording.content import Content
from notifications.wording.frames import compose
from notifications.wording.sms import fit_sms
from notifications.wording.words import CustomerWords, StaffWords

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
    # The words are written in the customer's catalog; a template is rendered in it only when a
    # frame is made (``frames``), so a batch in several languages does not switch at every message.
    catalog = catalog_for(language)
    words = CustomerWords(commitment, message=message, since=since, now=now, language=catalog)
    template = template or _template_in(commitment, kind, catalog)
    if channel == Channel.SMS:
        return Content(subject="", text=fit_sms(template, words, language=language))
    # An email's HTML is drawn at send time in this language, and the email says which it is.
    form = "script" if channel == Channel.PHONE else "customer"
    return compose(form, template, words, words.structure, language=language)


def customer_template(commitment: Commitment, kind: str) -> str:
    """The template a customer message is written with: the team's own wording for the kind, if any.

    A team writes its wording in the product's default language (FOLLOWTHROUGH_LANGUAGE); a customer
    who reads another language gets the product's translated wording instead of words they can't read.
    """
    return _template_in(commitment, kind, catalog_for(commitment.customer.language_code))


def _template_in(commitment: Commitment, kind: str, catalog: str) -> str:
    default = f"notifications/customer/{kind}.txt"
    if catalog != catalog_for(settings.FOLLOWTHROUGH_LANGUAGE):
        return default
    return team_templates.template_for(commitment.team, kind) or default


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
    # Staff read English, whoever the customer is.
    words = StaffWords(commitment, message=message, details=details, now=now, language=settings.LANGUAGE_CODE)
    template = f"notifications/staff/{kind}.txt"
    return [compose("staff", template, words, words.for_recipient(recipient)) for recipient in recipients]


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
    return render_staff_message(commitment, MessageKind.CALL_TASK, recipient=recipient, details=details, now=now)
