"""The transactional outbox: messages are written in the caller's transaction, sent after commit.

Services call ``notify_customer`` and ``notify_staff`` inside their transaction. Each message
becomes a ``Notification`` row with a unique idempotency key; a key already present means the
message was made before, and nothing happens. Delivery is enqueued only once the transaction
commits; the periodic sweep picks up anything whose enqueue was lost.
"""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from commitments.models import Channel, Commitment
from notifications import messages
from notifications.models import Audience, DeliveryStatus, Notification


def notify_customer(
    commitment: Commitment,
    kind: str,
    *,
    key: str,
    message: str = "",
    scheduled_for: datetime | None = None,
) -> list[Notification]:
    """Queue one message to the customer on their preferred channel."""
    customer = commitment.customer
    when = scheduled_for or timezone.now()
    channel = customer.preferred_channel
    if channel == Channel.SMS and customer.phone:
        recipient = customer.phone
    elif customer.email:
        channel, recipient = Channel.EMAIL, customer.email
    else:
        channel, recipient = Channel.PHONE, customer.phone
    content = messages.render_customer_message(commitment, kind, message=message, channel=channel)
    row = Notification(
        commitment=commitment,
        kind=kind,
        channel=channel,
        audience=Audience.CUSTOMER,
        recipient=recipient,
        subject=content.subject,
        body=content.text,
        html_body=content.html,
        scheduled_for=when,
        next_attempt_at=when,
        idempotency_key=key,
    )
    return _queue([row])


def notify_staff(
    commitment: Commitment,
    kind: str,
    *,
    recipients: Iterable[User],
    key: str,
    message: str = "",
    scheduled_for: datetime | None = None,
) -> list[Notification]:
    """Queue one email per member of staff; each key gets the recipient's id appended."""
    when = scheduled_for or timezone.now()
    rows = []
    for user in recipients:
        if not user.email:
            continue
        content = messages.render_staff_message(commitment, kind, message=message, recipient=user)
        rows.append(
            Notification(
                commitment=commitment,
                kind=kind,
                channel=Channel.EMAIL,
                audience=Audience.STAFF,
                recipient=user.email,
                recipient_user=user,
                subject=content.subject,
                body=content.text,
                html_body=content.html,
                scheduled_for=when,
                next_attempt_at=when,
                idempotency_key=f"{key}:u{user.pk}",
            )
        )
    return _queue(rows)


def suppress_unsent(commitment: Commitment) -> int:
    """Nothing still waiting in the outbox for this commitment goes out."""
    return Notification.objects.filter(commitment=commitment, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SUPPRESSED, leased_until=None
    )


def _queue(rows: list[Notification]) -> list[Notification]:
    if not rows:
        return []
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    keys = [row.idempotency_key for row in rows]
    created = list(Notification.objects.filter(idempotency_key__in=keys, status=DeliveryStatus.PENDING))
    due_now = [row.pk for row in created if row.next_attempt_at <= timezone.now()]
    if due_now:
        transaction.on_commit(lambda: _enqueue_delivery(due_now))
    return created


def _enqueue_delivery(notification_ids: list[int]) -> None:
    from notifications.tasks import deliver_notifications

    try:
        deliver_notifications.delay(notification_ids)
    except Exception:
        import logging

        logging.getLogger(__name__).warning("Could not enqueue delivery; the sweep will pick it up.", exc_info=True)
