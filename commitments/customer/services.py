"""What the customer does: from their status page (no login, the link is the key) and by text message.

Every change lands on the timeline with ``actor_label="customer"`` and tells the owner, because the
promise stands whatever the customer changes about how we reach them. The lifecycle moves the
customer makes (confirm, reopen, resume) go through ``commitments.services`` like any other.
"""

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import User
from commitments import contacts, services, text_opt_outs
from commitments.errors import IllegalMove, InvalidInput
from commitments.languages import catalog_for
from commitments.models import CLOSED_STATUSES, Channel, Commitment, ContactChange, Customer, Status, TimelineEvent
from commitments.services.timeline import record_event
from commitments.status_links import hash_token, issue_status_link
from notifications import outbox
from notifications.contact_checks import send_contact_check
from notifications.models import MessageKind

CUSTOMER = "customer"
ANSWER_LIMIT = 5000
# How much of a customer's email its owner's alert quotes; the timeline keeps all of it.
ALERT_EXCERPT = 1500

# Twilio's standard keywords (its Advanced Opt-Out defaults, plus the newer REVOKE and OPTOUT).
# Twilio itself blocks further texts to a number that sent an opt-out word and confirms to the
# sender; we record the choice so that our own messages go by email instead, or are suppressed.
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})


# --- Staff: the link itself ---------------------------------------------------------------


@transaction.atomic
def revoke_status_link(*, actor: User, commitment: Commitment) -> Commitment:
    """Replace the customer's link (say it was forwarded to the wrong person): the old one stops working.

    The next message to the customer carries the new link.
    """
    commitment = Commitment.objects.select_for_update().select_related("customer").get(pk=commitment.pk)
    services.ensure_can_act(actor, commitment)
    issue_status_link(commitment)
    commitment.save(update_fields=["status_token_nonce", "status_token_hash", "updated_at"])
    record_event(
        commitment=commitment,
        kind=TimelineEvent.Kind.EDITED,
        actor=actor,
        message="The customer's status link was replaced; the old link no longer works.",
        data={"status_link": "revoked"},
    )
    return commitment


# --- Status page ----------------------------------------------------------------------------


@transaction.atomic
def answer_request(*, commitment: Commitment, answer: str) -> Commitment:
    """The customer gives us what we asked for: their answer goes on the timeline and the clock runs again."""
    answer = (answer or "").strip()
    if not answer:
        raise InvalidInput({"answer": [gettext("Write your answer before sending it.")]})
    if len(answer) > ANSWER_LIMIT:
        raise InvalidInput(
            {"answer": [gettext("Keep your answer under %(limit)d characters.") % {"limit": ANSWER_LIMIT}]}
        )
    locked = Commitment.objects.select_for_update().get(pk=commitment.pk)
    if locked.status != Status.WAITING:
        raise IllegalMove("We are not waiting on anything from you right now.")
    record_event(
        commitment=locked,
        kind=TimelineEvent.Kind.CUSTOMER_REPLY,
        actor_label=CUSTOMER,
        message=answer,
        data={"via": "status_page", "answering": locked.waiting_request},
    )
    # resume() tells the owner and the assignee what the customer answered.
    return services.resume(actor=None, commitment=locked, note=answer, by_customer=True)


@dataclass(frozen=True)
class ContactPreferences:
    """What the customer submits: the email and phone they want (blank: none)."""

    preferred_channel: str
    email: str
    phone: str
    texts_allowed: bool
    email_updates: bool
    language: str = ""  # BCP 47; blank keeps theirs


@dataclass(frozen=True)
class PreferencesSaved:
    customer: Customer
    # The contacts (``email``, ``phone``) waiting for the customer to confirm them from the new address.
    awaiting_confirmation: tuple[str, ...] = ()


CONTACT_CHANGE_LIFETIME = timedelta(days=7)


@transaction.atomic
def change_preferences(*, commitment: Commitment, preferences: ContactPreferences) -> PreferencesSaved:
    """The customer changes how we reach them. Validated like staff input: a channel needs its contact.

    Whoever holds the link may use this page, so a new email address or phone number is not used
    until its holder confirms it (``confirm_contact_change``): a message with a link good for that
    alone goes to the new address, and messages keep going where they went. A channel that needs
    the new contact is switched to on confirmation too.
    """
    customer = Customer.objects.select_for_update().get(pk=commitment.customer_id)
    errors: dict[str, list[str]] = {}
    email_given = preferences.email.strip()
    phone_given = preferences.phone.strip()
    try:
        cleaned = services.clean_customer_details(
            services.CustomerDetails(
                name=customer.name,
                email=email_given,
                phone=phone_given,
                preferred_channel=preferences.preferred_channel,
                timezone=customer.timezone,
                language=preferences.language,
            )
        )
    except InvalidInput as error:
        errors.update(error.errors)
        # The customer's own words for what they typed (the shared check speaks to staff, in English).
        if "email" in errors:
            errors["email"] = [gettext("Enter a valid email address.")]
        if "phone" in errors:
            errors["phone"] = [gettext("Enter a valid phone number, e.g. +15555550100.")]
        cleaned = None
    # The same rule as for staff (a channel needs its contact), in words addressed to the customer.
    if preferences.preferred_channel == Channel.EMAIL and not email_given:
        errors["email"] = [gettext("Enter your email address, or choose another way to reach you.")]
    elif preferences.preferred_channel in (Channel.SMS, Channel.PHONE) and not phone_given:
        errors["phone"] = [gettext("Enter your phone number, or choose another way to reach you.")]
    if preferences.preferred_channel == Channel.SMS and not preferences.texts_allowed:
        errors.setdefault("preferred_channel", []).append(
            gettext("You asked us not to text you: choose email or a phone call, or allow text messages.")
        )
    if cleaned is not None:
        # Say nothing about whose record holds the address: the page is open to whoever has the link.
        taken = services.contact_taken_in_team(customer, email=cleaned.email, phone=cleaned.phone)
        if taken["email"]:
            errors["email"] = [gettext("We can't use this email address here. Please contact us to change it.")]
        if taken["phone"]:
            errors["phone"] = [gettext("We can't use this phone number here. Please contact us to change it.")]
        if preferences.texts_allowed and text_opt_outs.number_stopped_texts(customer.phone):
            errors["texts_allowed"] = [
                gettext("You texted STOP to our number: text START to it and we may text you again.")
            ]
    if errors:
        raise InvalidInput(errors)
    assert cleaned is not None
    new_contacts = {
        field: value
        for field, value in (("email", cleaned.email), ("phone", cleaned.phone))
        if value and value != getattr(customer, field)
    }
    channel_needs = "email" if cleaned.preferred_channel == Channel.EMAIL else "phone"
    channel_waits = channel_needs in new_contacts and cleaned.preferred_channel != customer.preferred_channel
    removed = {field: "" for field in ("email", "phone") if not getattr(cleaned, field) and getattr(customer, field)}
    wanted = {
        **removed,
        "preferred_channel": customer.preferred_channel if channel_waits else cleaned.preferred_channel,
        "sms_opted_out": not preferences.texts_allowed,
        "email_updates_opted_out": not preferences.email_updates,
        "language": cleaned.language or customer.language,
    }
    changes = {
        field: [getattr(customer, field), value] for field, value in wanted.items() if getattr(customer, field) != value
    }
    for field, value in new_contacts.items():
        _ask_to_confirm(
            customer,
            commitment=commitment,
            field=field,
            value=value,
            then_channel=cleaned.preferred_channel if channel_waits and field == channel_needs else "",
        )
    if changes:
        for field, (_, value) in changes.items():
            setattr(customer, field, value)
        customer.save()
        described = describe_changes(changes)
        _tell_owners(
            customer,
            current=commitment,
            key="preferences",
            message=described,
            data={"changes": changes, "via": "status_page"},
            alert=f"{customer.name} changed how we reach them on their status page: {described}.",
        )
    return PreferencesSaved(customer=customer, awaiting_confirmation=tuple(new_contacts))


def _ask_to_confirm(customer: Customer, *, commitment: Commitment, field: str, value: str, then_channel: str) -> None:
    """Replace any earlier unconfirmed change of this contact, and send the new one's confirmation."""
    ContactChange.objects.filter(customer=customer, field=field, confirmed_at__isnull=True).delete()
    token = secrets.token_urlsafe(32)
    change = ContactChange.objects.create(
        customer=customer,
        commitment=commitment,
        field=field,
        value=value,
        then_channel=then_channel,
        token_hash=hash_token(token),
    )
    confirm_url = f"{settings.SITE_URL}{reverse('customer:confirm_contact', args=[token])}"
    send_contact_check(commitment=commitment, change=change, confirm_url=confirm_url)


def contact_change_for_token(token: str) -> ContactChange | None:
    """The unconfirmed, unexpired change this confirmation link is for, or ``None``."""
    if not token or len(token) > 100:
        return None
    return (
        ContactChange.objects.select_related("customer", "commitment__team")
        .filter(
            token_hash=hash_token(token),
            confirmed_at__isnull=True,
            created_at__gt=timezone.now() - CONTACT_CHANGE_LIFETIME,
        )
        .first()
    )


@transaction.atomic
def confirm_contact_change(*, token: str) -> ContactChange | None:
    """The holder of the new address confirms it: from now on we use it. ``None`` for a spent or wrong link."""
    found = contact_change_for_token(token)
    if found is None:
        return None
    change = ContactChange.objects.select_for_update().get(pk=found.pk)
    if change.confirmed_at is not None:
        return None
    customer = Customer.objects.select_for_update().get(pk=change.customer_id)
    taken = services.contact_taken_in_team(customer, **{change.field: change.value})
    if taken[change.field]:
        raise InvalidInput({change.field: [gettext("We can't use this address here. Please contact us to change it.")]})
    wanted: dict[str, Any] = {change.field: change.value}
    if change.field == "phone":
        wanted["sms_opted_out"] = text_opt_outs.opt_out_after_new_number(
            old_phone=customer.phone, new_phone=change.value, opted_out=customer.sms_opted_out
        )
    if change.then_channel:
        wanted["preferred_channel"] = change.then_channel
    changes = {
        field: [getattr(customer, field), value] for field, value in wanted.items() if getattr(customer, field) != value
    }
    # Channel first, as the customer chose it, then the contact.
    ordered = dict(sorted(changes.items(), key=lambda item: item[0] != "preferred_channel"))
    for field, (_, value) in ordered.items():
        setattr(customer, field, value)
    customer.save()
    change.confirmed_at = timezone.now()
    change.save(update_fields=["confirmed_at"])
    if ordered:
        described = describe_changes(ordered)
        _tell_owners(
            customer,
            current=change.commitment,
            key="contact_confirmed",
            message=described,
            data={"changes": ordered, "via": "status_page"},
            alert=f"{customer.name} changed how we reach them on their status page (confirmed): {described}.",
        )
    return change


@transaction.atomic
def unsubscribe_email_updates(*, commitment: Commitment) -> bool:
    """RFC 8058 one-click: no more automatic status updates by email. False if already unsubscribed."""
    customer = Customer.objects.select_for_update().get(pk=commitment.customer_id)
    if customer.email_updates_opted_out:
        return False
    customer.email_updates_opted_out = True
    customer.save(update_fields=["email_updates_opted_out", "updated_at"])
    _tell_owners(
        customer,
        current=commitment,
        key="unsubscribed",
        message="Unsubscribed from automatic email updates.",
        data={"changes": {"email_updates_opted_out": [False, True]}, "via": "unsubscribe_link"},
        alert=(
            f"{customer.name} unsubscribed from automatic email updates. "
            "The promise still stands: keep them posted yourself."
        ),
    )
    return True


# --- Text messages --------------------------------------------------------------------------


@dataclass(frozen=True)
class TextReceived:
    """What came of an inbound text: ``reply`` is the text to answer with, if any."""

    outcome: str
    reply: str = ""
    commitment: Commitment | None = None


def keyword_of(body: str) -> str:
    """The carrier keyword a text consists of (``"STOP"``), or ``""``: Twilio matches the whole message."""
    word = (body or "").strip().strip(".!").upper()
    return word if word in OPT_OUT_WORDS | OPT_IN_WORDS | HELP_WORDS else ""


def customers_for_number(phone: str) -> list[Customer]:
    """Every team's record of this number (a text to our number may concern any of them)."""
    try:
        number = contacts.normalize_phone(phone)
    except ValueError:
        return []
    return list(Customer.objects.filter(phone=number).order_by("pk")) if number else []


def receive_text(*, from_number: str, body: str, message_sid: str = "") -> TextReceived:
    """An inbound text: an opt-out, an opt-in, a request for help, or a reply for the owner."""
    customers = customers_for_number(from_number)
    keyword = keyword_of(body)
    if keyword in HELP_WORDS:
        for customer in customers:
            _note_help_request(customer=customer, keyword=keyword, message_sid=message_sid)
        return TextReceived(outcome="help", reply=help_reply(customers))
    if keyword in OPT_OUT_WORDS:
        # Recorded for the number even when no team knows it yet: STOP binds every later record too.
        stop_texts(phone=from_number, keyword=keyword)
        return TextReceived(outcome="stopped" if customers else "unknown")
    if not customers:
        return TextReceived(outcome="unknown")
    if keyword in OPT_IN_WORDS:
        resume_texts(phone=from_number, keyword=keyword)
        return TextReceived(outcome="resumed")
    commitment = record_text_reply(customers=customers, body=body, message_sid=message_sid)
    return TextReceived(outcome="reply" if commitment else "ignored", commitment=commitment)


@transaction.atomic
def stop_texts(*, phone: str, keyword: str = "STOP") -> bool:
    """No more texts to this number from any team; False if no record of it had texts allowed."""
    try:
        number = contacts.normalize_phone(phone)
    except ValueError:
        return False
    if not number:
        return False
    stopped = text_opt_outs.stop_texts_to_number(phone=number, keyword=keyword)
    for customer in stopped:
        fallback = "by email" if customer.email else "only on their status page"
        _tell_owners(
            customer,
            current=None,
            key="sms_stopped",
            message=f"Texted {keyword}: no more text messages.",
            data={"changes": {"sms_opted_out": [False, True]}, "via": "sms", "keyword": keyword},
            alert=f"{customer.name} texted {keyword}: they get no more texts. Our messages reach them {fallback}.",
        )
    return bool(stopped)


@transaction.atomic
def resume_texts(*, phone: str, keyword: str = "START") -> bool:
    """Texts to this number are allowed again, in every team; False if they were not stopped."""
    try:
        number = contacts.normalize_phone(phone)
    except ValueError:
        return False
    resumed = text_opt_outs.resume_texts_to_number(phone=number) if number else []
    for customer in resumed:
        _tell_owners(
            customer,
            current=None,
            key="sms_resumed",
            message=f"Texted {keyword}: text messages allowed again.",
            data={"changes": {"sms_opted_out": [True, False]}, "via": "sms", "keyword": keyword},
            alert=f"{customer.name} texted {keyword}: we may text them again.",
        )
    return bool(resumed)


@transaction.atomic
def record_text_reply(*, customers: list[Customer], body: str, message_sid: str = "") -> Commitment | None:
    """Any other text goes on the number's most recent open commitment (else its latest), in whichever team.

    The sender is every record with the number; the reply reaches the one promise they most
    likely answer, and only that team sees it.
    """
    ids = [customer.pk for customer in customers]
    # One reply at a time per number: lock its records in pk order.
    list(Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    if (
        message_sid
        and TimelineEvent.objects.filter(
            commitment__customer_id__in=ids, kind=TimelineEvent.Kind.CUSTOMER_REPLY, data__message_sid=message_sid
        ).exists()
    ):
        return None  # Twilio delivered the same message twice.
    theirs = Commitment.objects.filter(customer_id__in=ids)
    commitment = _most_recent(theirs.exclude(status__in=CLOSED_STATUSES)) or _most_recent(theirs)
    if commitment is None:
        return None
    customer = commitment.customer
    text = (body or "").strip()[:ANSWER_LIMIT]
    event = record_event(
        commitment=commitment,
        kind=TimelineEvent.Kind.CUSTOMER_REPLY,
        actor_label=CUSTOMER,
        message=text,
        data={"via": "sms", "message_sid": message_sid},
    )
    _alert_owner_of_reply(
        commitment,
        f"{customer.name} replied by text: {text}",
        key=f"{commitment.pk}:text_reply:{message_sid or event.pk}",
    )
    return commitment


def record_email_reply(
    *, commitment: Commitment, sender: str, subject: str, text: str, attachments: list[str], message_id: str
) -> Commitment | None:
    """The customer's email on the timeline, and an alert to the owner at once (call in a transaction).

    Closed or not, the reply lands: a customer writing back after we thought we were done is
    exactly what the owner must hear about. notifications.inbound_email reads the mail.
    """
    if (
        message_id
        and TimelineEvent.objects.filter(
            commitment=commitment, kind=TimelineEvent.Kind.CUSTOMER_REPLY, data__message_id=message_id
        ).exists()
    ):
        return None  # The same message delivered twice (a webhook retried).
    event = record_event(
        commitment=commitment,
        kind=TimelineEvent.Kind.CUSTOMER_REPLY,
        actor_label=CUSTOMER,
        message=text or "(no text)",
        data={
            "via": Channel.EMAIL,
            "sender": sender,
            "subject": subject,
            "attachments": attachments,
            "message_id": message_id,
        },
    )
    alert = f"{commitment.customer.name} replied by email ({sender}), subject “{subject}”:\n\n"
    alert += text[:ALERT_EXCERPT] or "(no text)"
    if attachments:
        alert += f"\n\nAttached: {', '.join(attachments)}"
    reference = hashlib.sha256(message_id.encode()).hexdigest()[:16] if message_id else str(event.pk)
    _alert_owner_of_reply(commitment, alert, key=f"{commitment.pk}:email_reply:{reference}")
    return commitment


def _alert_owner_of_reply(commitment: Commitment, alert: str, *, key: str) -> None:
    """The owner hears of every reply at once, by text or email alike, with what it means for the promise."""
    if commitment.status == Status.WAITING:
        alert += "\n\nWe are waiting on this customer: resume the commitment if this is what we asked for."
    elif commitment.status in (Status.CONFIRMED, Status.CANCELLED):
        alert += f"\n\nThis commitment is {commitment.get_status_display().lower()}: they wrote to it all the same."
    outbox.notify_staff(commitment, MessageKind.ALERT, recipients=[commitment.owner], key=key, message=alert)


def help_reply(customers: list[Customer]) -> str:
    """Who we are and how to stop, as carriers expect in answer to HELP."""
    commitment = _most_recent(Commitment.objects.filter(customer__in=customers)) if customers else None
    sender = commitment.team.name if commitment else "Followthrough"
    # In the language of the customer the latest request is for; STOP and START stay as they are,
    # because those are the words the carrier acts on.
    language = commitment.customer.language_code if commitment else settings.FOLLOWTHROUGH_LANGUAGE
    with translation.override(catalog_for(language)):
        return gettext(
            "%(sender)s: we text you updates about the request you made with us. "
            "Reply STOP to stop texts, START to get them again. "
            "Reply with anything else and it reaches the person looking after your request."
        ) % {"sender": sender}


# --- Internals ------------------------------------------------------------------------------

FIELD_NAMES = {
    "preferred_channel": "preferred channel",
    "email": "email address",
    "phone": "phone number",
    "sms_opted_out": "text messages",
    "email_updates_opted_out": "automatic email updates",
    "language": "language",
}


def describe_changes(changes: dict[str, list[Any]]) -> str:
    """Plain words for staff: ``preferred channel: Email → Text message; text messages: stopped``."""
    parts = []
    for field, (old, new) in changes.items():
        if field == "preferred_channel":
            parts.append(f"preferred channel: {Channel(old).label} → {Channel(new).label}")
        elif field in ("sms_opted_out", "email_updates_opted_out"):
            parts.append(f"{FIELD_NAMES[field]}: {'stopped' if new else 'allowed'}")
        else:
            parts.append(f"{FIELD_NAMES[field]}: {old or '(none)'} → {new or '(none)'}")
    return "; ".join(parts)


def _most_recent(commitments: Any) -> Commitment | None:
    result: Commitment | None = (
        commitments.select_related("owner", "team", "customer")
        .order_by(F("last_update_at").desc(nulls_last=True), "-created_at", "-pk")
        .first()
    )
    return result


def _open_commitments(customer: Customer, current: Commitment | None) -> Iterable[Commitment]:
    """The commitment the customer acted from, then every other one of theirs still open."""
    found = list(
        customer.commitments.exclude(status__in=CLOSED_STATUSES).select_related("owner").order_by("created_at", "pk")
    )
    if current is not None:
        found = [current, *(c for c in found if c.pk != current.pk)]
    return found


def _note_help_request(*, customer: Customer, keyword: str, message_sid: str) -> None:
    with transaction.atomic():
        for commitment in _open_commitments(customer, None):
            record_event(
                commitment=commitment,
                kind=TimelineEvent.Kind.CUSTOMER_REPLY,
                actor_label=CUSTOMER,
                message=f"Texted {keyword}; we answered with who we are and how to stop texts.",
                data={"via": "sms", "keyword": keyword, "message_sid": message_sid},
            )


def _tell_owners(
    customer: Customer,
    *,
    current: Commitment | None,
    key: str,
    message: str,
    data: dict[str, Any],
    alert: str,
) -> None:
    """A change about the customer concerns each of their open promises: note it on each, tell each owner."""
    now = timezone.now()
    for commitment in _open_commitments(customer, current):
        event = record_event(
            commitment=commitment,
            kind=TimelineEvent.Kind.PREFERENCES,
            actor_label=CUSTOMER,
            message=message,
            data=data,
            at=now,
        )
        outbox.notify_staff(
            commitment,
            MessageKind.ALERT,
            recipients=[commitment.owner],
            key=f"{commitment.pk}:{key}:{event.pk}",
            message=alert,
        )
