"""What the mail service tells us after a send: bounces and spam complaints.

A bounced email is not a kept promise. A permanent failure of one of our emails (matched by the
Message-ID every email carries, ``Notification.message_id``) marks it ``failed`` with the reason,
tells the owner, and stops email to that address: the customer's messages go by text where they
gave a phone number (the same message, now, within quiet hours and STOP), until their email
address is changed. A spam complaint stops email to that address the same way, as an
unsubscribe would. A temporary failure changes nothing: the mail service keeps trying.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from commitments.models import Channel, Customer, TimelineEvent
from commitments.services.timeline import record_event
from notifications import outbox
from notifications.models import Audience, DeliveryStatus, MessageKind, Notification

logger = logging.getLogger(__name__)

COMPLAINT = "marked our email as spam"


def notification_for_message_id(message_id: str) -> Notification | None:
    """The email that carried this Message-ID (``<key with dots>@<our domain>``), or None."""
    local, _, domain = message_id.strip().strip("<>").rpartition("@")
    ours = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "followthrough.localhost"
    if not local or domain.lower() != ours.lower():
        return None
    notification = (
        Notification.objects.select_related("commitment__customer", "commitment__owner")
        .filter(idempotency_key=local.replace(".", ":"), channel=Channel.EMAIL)
        .first()
    )
    if notification is None or notification.message_id.lower() != f"<{local}@{domain}>".lower():
        return None
    return notification


@transaction.atomic
def record_permanent_failure(*, message_id: str, recipient: str, reason: str) -> Notification | None:
    """The email could never be delivered: failed, owner told, and the customer reached by text instead."""
    found = notification_for_message_id(message_id)
    if found is None:
        logger.info("A bounce for a message that is not ours (or no longer here) was ignored")
        return None
    notification = Notification.objects.select_for_update().get(pk=found.pk)
    if notification.status == DeliveryStatus.FAILED:
        return None  # Told twice (a webhook retried, or bounced and then rejected).
    reason = " ".join((reason or "the receiving mail server refused it for good").split())[:500]
    now = timezone.now()
    notification.status, notification.last_error, notification.leased_until = DeliveryStatus.FAILED, reason, None
    notification.save(update_fields=["status", "last_error", "leased_until"])
    commitment = found.commitment
    if commitment is None:
        return notification  # A lead's digest: no commitment to note it on, nobody to reach another way.
    address = (recipient or notification.recipient).lower()
    record_event(
        commitment=commitment,
        kind=TimelineEvent.Kind.MESSAGE,
        actor_label="system",
        message=f"{notification.get_kind_display()} by email to {address} bounced: {reason}",
        data={
            "notification_id": notification.pk,
            "kind": notification.kind,
            "channel": Channel.EMAIL,
            "recipient": address,
            "audience": notification.audience,
            "status": DeliveryStatus.FAILED,
            "error": reason,
            "bounced": True,
        },
        at=now,
    )
    if notification.kind == MessageKind.ALERT:
        return notification  # Never an alert about a failed alert.
    customer_message = notification.audience == Audience.CUSTOMER
    if customer_message:
        customer = Customer.objects.select_for_update().get(pk=commitment.customer_id)
        _stop_email(customer, address, reason=f"bounced: {reason}", at=now)
        commitment.customer = customer
    instead = _send_by_text(notification) if customer_message else None
    who = "the customer" if customer_message else notification.recipient
    told = ""
    if instead is not None and instead.channel == Channel.SMS:
        told = f" It goes by text to {instead.recipient} instead, and so will their next messages."
    elif customer_message:
        told = " There is no phone number to text instead: please reach them another way."
    outbox.notify_staff(
        commitment,
        MessageKind.ALERT,
        recipients=[commitment.owner],
        key=f"{commitment.pk}:bounced:{notification.pk}",
        message=(
            f"The {notification.get_kind_display().lower()} to {who} by email ({address}) bounced: {reason}.{told}"
            + (" Correct their email address to use email again." if customer_message else "")
        ),
    )
    return notification


def _send_by_text(notification: Notification) -> Notification | None:
    """The bounced message again, on the channel the customer can now be reached on (a text)."""
    commitment = notification.commitment
    if commitment is None:
        return None
    if commitment.customer.preferred_channel != Channel.EMAIL or not commitment.customer.phone:
        return None  # A call task or a customer with no number: the owner's alert says what to do.
    key = f"{notification.idempotency_key}:by_text"
    sent = outbox.notify_customer(
        commitment, notification.kind, key=key, message=(notification.layout or {}).get("message", "")
    )
    return sent[0] if sent else None


@transaction.atomic
def record_complaint(*, message_id: str, recipient: str) -> int:
    """The customer marked our email as spam: no more email to that address. Returns customers stopped."""
    found = notification_for_message_id(message_id) if message_id else None
    address = (recipient or (found.recipient if found else "")).lower()
    if not address:
        return 0
    customers = Customer.objects.select_for_update().filter(email=address)
    if found is not None and found.commitment is not None:
        customers = customers.filter(pk=found.commitment.customer_id)
    stopped = 0
    now = timezone.now()
    for customer in customers.order_by("pk"):
        if not _stop_email(customer, address, reason=COMPLAINT, at=now):
            continue
        stopped += 1
        commitment = found.commitment if found else customer.commitments.order_by("-created_at").first()
        if commitment is None:
            continue
        record_event(
            commitment=commitment,
            kind=TimelineEvent.Kind.PREFERENCES,
            actor_label="customer",
            message=f"Marked our email as spam: no more email goes to {address}.",
            data={"changes": {"email_stopped": [False, True]}, "via": "email", "complaint": True},
            at=now,
        )
        outbox.notify_staff(
            commitment,
            MessageKind.ALERT,
            recipients=[commitment.owner],
            key=f"{commitment.pk}:complaint:{customer.pk}:{int(now.timestamp())}",
            message=(
                f"{customer.name} marked our email as spam. No more email goes to {address}"
                + (
                    f"; their messages go by text to {customer.phone}."
                    if customer.phone
                    else "; no other contact is on file."
                )
            ),
        )
    return stopped


def _stop_email(customer: Customer, address: str, *, reason: str, at: datetime) -> bool:
    """No more email to this customer's ``address`` (only while it is still their address)."""
    if customer.email.lower() != address or customer.undeliverable_email == customer.email:
        return False
    customer.undeliverable_email = customer.email
    customer.undeliverable_email_reason = reason[:500]
    customer.undeliverable_email_at = at
    fields = ["undeliverable_email", "undeliverable_email_reason", "undeliverable_email_at", "updated_at"]
    if reason == COMPLAINT:
        customer.email_updates_opted_out = True  # As an unsubscribe does.
        fields.append("email_updates_opted_out")
    customer.save(update_fields=fields)
    return True
