"""Customers' email replies, and the hooks that bring in mail and delivery events (Mailgun).

Every email to a customer carries ``Reply-To: replies+<token>@<EMAIL_REPLY_TO's domain>``
(``notifications.reply_addresses``). The domain's inbound route forwards what arrives to
``/hooks/email/mailgun/inbound/``; anymail checks Mailgun's signature and parses the message,
and ``receive_email`` puts its new text on the commitment's timeline and tells the owner at
once. Mail that matches no commitment is kept as an ``UnmatchedEmail`` for an operator.

Delivery events (``/hooks/email/mailgun/tracking/``) go to ``notifications.bounces``.

The hooks run through anymail's signals, so another ESP's anymail webhook (mounted under
``/hooks/email/anymail/``) lands in the same place once configured.
"""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from anymail.exceptions import AnymailInvalidAddress
from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, EventType
from anymail.webhooks.mailgun import MailgunInboundWebhookView, MailgunTrackingWebhookView
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.html import strip_tags
from django.views.decorators.csrf import csrf_exempt

from commitments.customer.services import record_email_reply
from commitments.models import Commitment
from notifications import bounces
from notifications.models import UnmatchedEmail
from notifications.reply_addresses import commitment_id_for

logger = logging.getLogger(__name__)

TEXT_LIMIT = 5000


# --- The hooks ----------------------------------------------------------------------------


def _mailgun_hook(view_class: type[Any]) -> Callable[[HttpRequest], HttpResponse]:
    """Anymail's Mailgun view with our signing key; 404 while MAILGUN_WEBHOOK_SIGNING_KEY is unset."""

    @csrf_exempt
    def hook(request: HttpRequest) -> HttpResponse:
        key = settings.MAILGUN_WEBHOOK_SIGNING_KEY
        if not key:
            raise Http404("Mailgun webhooks are not configured")
        # A bad or missing signature raises AnymailWebhookValidationFailure: a 400, nothing recorded.
        response: HttpResponse = view_class.as_view(webhook_signing_key=key)(request)
        return response

    return hook


mailgun_inbound = _mailgun_hook(MailgunInboundWebhookView)
mailgun_tracking = _mailgun_hook(MailgunTrackingWebhookView)


def on_inbound(sender: object, event: AnymailInboundEvent, esp_name: str, **kwargs: object) -> None:
    """anymail's ``inbound`` signal: one email came in."""
    receive_email(event.message)


def on_tracking(sender: object, event: AnymailTrackingEvent, esp_name: str, **kwargs: object) -> None:
    """anymail's ``tracking`` signal: what happened to an email we sent."""
    reason = " ".join(part for part in (event.mta_response, event.description) if part) or str(event.reject_reason)
    if event.event_type in (EventType.BOUNCED, EventType.REJECTED):
        bounces.record_permanent_failure(
            message_id=event.message_id or "", recipient=event.recipient or "", reason=reason
        )
    elif event.event_type == EventType.COMPLAINED:
        bounces.record_complaint(message_id=event.message_id or "", recipient=event.recipient or "")
    # Deferred (a temporary failure), delivered, opened, ...: nothing changes.


# --- What the customer wrote --------------------------------------------------------------

# Where quoted history starts when the receiving service did not strip it (Mailgun's
# ``stripped-text`` is used first): the attribution line mail clients write above a quote, in
# the languages we write in ("On Tue, 24 Nov 2026 at 15:00, Alex <…> wrote:", "El mar., 24 nov
# 2026 a las 15:00, Alex (<…>) escribió:"), Outlook's header block ("From: …" then "Sent: …"),
# a forwarded or original-message rule. Gmail may wrap a long attribution over two lines, so a
# line is also tried joined with the next one.
ATTRIBUTION = re.compile(r"^\s*(On|El|Le|Am)\s.+(wrote|escribió|a écrit|schrieb)\s*:\s*$", re.IGNORECASE)
HEADER_BLOCK = re.compile(r"^\s*\**(From|De|Von)\s*:\**\s", re.IGNORECASE)
HEADER_NEXT = re.compile(r"^\s*\**(Sent|Date|Enviado|Fecha|Gesendet|To|Para|Subject|Asunto)\s*:", re.IGNORECASE)
RULES = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Mensaje original|Forwarded message|Mensaje reenviado)\s*-{2,}|_{20,})\s*$",
    re.IGNORECASE,
)
SIGNATURE = "-- "  # RFC 3676: what follows is the sender's signature.


def new_text(message: AnymailInboundMessage) -> str:
    """What the customer wrote this time: no quoted history, no signature."""
    stripped = (message.stripped_text or "").strip()
    if stripped:
        return stripped[:TEXT_LIMIT]
    text = message.text or strip_tags(message.html or "")
    return strip_quoted(text)[:TEXT_LIMIT]


def strip_quoted(text: str) -> str:
    """``text`` up to where the quoted history (or the signature) starts, without ``>`` lines."""
    lines = (text or "").replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if (
            ATTRIBUTION.match(line)
            or ATTRIBUTION.match(f"{line} {following}")
            or RULES.match(line)
            or line == SIGNATURE
            or (HEADER_BLOCK.match(line) and HEADER_NEXT.match(following))
        ):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


@dataclass(frozen=True)
class Email:
    recipient: str
    sender: str
    subject: str
    text: str
    full_text: str
    attachments: list[str]
    message_id: str


def _addresses(message: AnymailInboundMessage, header: str) -> list[str]:
    """The addresses in a header; a malformed header (it happens) counts as none."""
    try:
        return [address.addr_spec for address in message.get_address_header(header)]
    except AnymailInvalidAddress:
        return []


def _read(message: AnymailInboundMessage) -> Email:
    senders = _addresses(message, "From")
    sender = senders[0] if senders else (message.envelope_sender or "")
    names = [attachment.get_filename() or "(unnamed)" for attachment in message.attachments]
    return Email(
        recipient=message.envelope_recipient or ", ".join(_addresses(message, "To")),
        sender=sender[:254],
        subject=(message.subject or "")[:300],
        text=new_text(message),
        full_text=(message.text or "")[: TEXT_LIMIT * 4],
        attachments=names,
        message_id=(message.get("Message-ID") or "").strip()[:300],
    )


# --- The service --------------------------------------------------------------------------


def receive_email(message: AnymailInboundMessage) -> Commitment | None:
    """A reply goes on its commitment's timeline and its owner is told; anything else is kept aside."""
    email = _read(message)
    commitment_id = None
    for address in [email.recipient, *_addresses(message, "To")]:
        commitment_id = commitment_id_for(address)
        if commitment_id is not None:
            break
    if commitment_id is None:
        keep_unmatched(email)
        return None
    with transaction.atomic():
        commitment = (
            Commitment.objects.select_for_update().select_related("customer", "owner").filter(pk=commitment_id).first()
        )
        if commitment is None:  # A commitment since deleted: the mail is still kept.
            transaction.on_commit(lambda: keep_unmatched(email))
            return None
        return record_email_reply(
            commitment=commitment,
            sender=email.sender,
            subject=email.subject,
            text=email.text,
            attachments=email.attachments,
            message_id=email.message_id,
        )


def keep_unmatched(email: Email) -> UnmatchedEmail | None:
    """Mail for no commitment, kept for the admin (once, however often it is delivered)."""
    logger.info("Inbound email to %s matched no commitment; kept for an operator", email.recipient)
    try:
        with transaction.atomic():
            return UnmatchedEmail.objects.create(
                recipient=email.recipient[:254],
                sender=email.sender,
                subject=email.subject,
                text=email.text,
                full_text=email.full_text,
                attachments=email.attachments,
                message_id=email.message_id,
            )
    except IntegrityError:
        return None  # Already kept.
