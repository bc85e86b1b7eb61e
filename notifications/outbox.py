"""The transactional outbox: messages are written in the caller's transaction, sent after commit.

Services call ``notify_customer`` and ``notify_staff`` inside their transaction; the sweeps gather
the messages of a whole batch in one ``Outgoing`` and write them with one insert. Each message is
a ``Notification`` row with a unique idempotency key: a key already present means the message was
made before, and nothing happens. Delivery is enqueued only once the transaction commits, and only
for rows due now; the periodic sweep picks up the rest when their time comes, and anything whose
enqueue was lost.

Channel rules, in the customer's interest:
- email goes to the email address, at any hour;
- a text goes to the E.164 number, held to the end of the customer's quiet hours; a number that
  said STOP gets no text: the message goes by email where they have one (and the timeline says
  so), else it is recorded ``suppressed``;
- a customer who prefers the phone gets no automatic call: their owner gets a ``call_task`` with
  what to say, which escalates when it is not done in one update interval.
"""

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from commitments.models import Channel, Commitment, Customer, TimelineEvent
from commitments.schedule import WorkingHours, call_task_escalation_time
from notifications import messages, quiet_hours
from notifications.models import Audience, DeliveryStatus, Kind, Notification

logger = logging.getLogger(__name__)

STOPPED_TEXTS_BY_EMAIL = "This number texted STOP, so the {kind} went by email to {email} instead."
STOPPED_TEXTS_SUPPRESSED = "This number texted STOP and there is no email address on file: the {kind} was not sent."
NO_CONTACT_SUPPRESSED = "There is no email address or phone number on file: the {kind} was not sent."


class Outgoing:
    """Messages and timeline notes written together: one insert for each, enqueued after commit.

    ``hours`` may carry the teams' working hours already read, so a batch asks for holidays once.
    """

    def __init__(self, *, now: datetime | None = None, hours: Mapping[int, WorkingHours] | None = None) -> None:
        self.now = now or timezone.now()
        self.notifications: list[Notification] = []
        self.events: list[TimelineEvent] = []
        self._hours: dict[int, WorkingHours] = dict(hours or {})

    # --- Building ---------------------------------------------------------------------------

    def to_customer(
        self,
        commitment: Commitment,
        kind: str,
        *,
        key: str,
        message: str = "",
        scheduled_for: datetime | None = None,
        automatic: bool = False,
        since: datetime | None = None,
    ) -> Notification:
        """One message to the customer on the channel they asked for (see the module's rules)."""
        customer = commitment.customer
        when = scheduled_for or self.now
        if customer.preferred_channel == Channel.PHONE and customer.phone:
            return self._call_task(commitment, kind, key=key, message=message, since=since, when=when)
        wants_text = customer.preferred_channel == Channel.SMS or not customer.email
        status = DeliveryStatus.PENDING
        if goes_by_text(customer):
            channel, recipient = Channel.SMS, customer.phone
            when = quiet_hours.text_allowed_from(when, customer.zone)
        elif customer.email:
            channel, recipient = Channel.EMAIL, customer.email
            if wants_text and customer.sms_opted_out:
                self.note(commitment, STOPPED_TEXTS_BY_EMAIL.format(kind=_label(kind), email=customer.email), kind)
        else:
            channel, recipient, status = Channel.SMS, customer.phone, DeliveryStatus.SUPPRESSED
            reason = STOPPED_TEXTS_SUPPRESSED if customer.sms_opted_out else NO_CONTACT_SUPPRESSED
            self.note(commitment, reason.format(kind=_label(kind)), kind)
        if automatic and channel == Channel.EMAIL and customer.email_updates_opted_out:
            status = DeliveryStatus.SUPPRESSED  # They unsubscribed from automatic updates by email.
        content = messages.render_customer_message(
            commitment, kind, message=message, channel=channel, since=since, now=self.now
        )
        row = Notification(
            commitment=commitment,
            kind=kind,
            channel=channel,
            audience=Audience.CUSTOMER,
            recipient=recipient,
            subject=content.subject,
            body=content.text,
            html_body=content.html,
            status=status,
            scheduled_for=when,
            next_attempt_at=when,
            idempotency_key=key,
            created_at=self.now,
        )
        self.notifications.append(row)
        return row

    def to_staff(
        self,
        commitment: Commitment,
        kind: str,
        *,
        recipients: Iterable[User],
        key: str,
        message: str = "",
        scheduled_for: datetime | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> list[Notification]:
        """One email per member of staff (each once); each key gets the recipient's id appended."""
        when = scheduled_for or self.now
        rows = []
        for user in {user.pk: user for user in recipients}.values():
            if not user.email:
                continue
            content = messages.render_staff_message(
                commitment, kind, message=message, recipient=user, details=details, now=self.now
            )
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
                    created_at=self.now,
                )
            )
        self.notifications.extend(rows)
        return rows

    def note(self, commitment: Commitment, message: str, kind: str = "", **data: Any) -> TimelineEvent:
        """A line on the commitment's timeline about a message (by the system)."""
        return self.event(commitment, TimelineEvent.Kind.MESSAGE, message=message, data={"kind": kind, **data})

    def event(
        self,
        commitment: Commitment,
        kind: str,
        *,
        message: str = "",
        data: dict[str, Any] | None = None,
        actor: User | None = None,
    ) -> TimelineEvent:
        row = TimelineEvent(
            commitment=commitment,
            kind=kind,
            actor=actor,
            actor_label="" if actor else "system",
            message=message,
            data=data or {},
            created_at=self.now,
        )
        self.events.append(row)
        return row

    def hours_for(self, commitment: Commitment) -> WorkingHours:
        hours = self._hours.get(commitment.team_id)
        if hours is None:
            hours = self._hours[commitment.team_id] = WorkingHours.of(commitment.team)
        return hours

    def _call_task(
        self,
        commitment: Commitment,
        kind: str,
        *,
        key: str,
        message: str,
        since: datetime | None,
        when: datetime,
    ) -> Notification:
        owner = commitment.owner
        script = messages.render_customer_message(
            commitment, kind, message=message, channel=Channel.PHONE, since=since, now=self.now
        )
        escalate_at = call_task_escalation_time(when, commitment.update_interval, self.hours_for(commitment))
        content = messages.render_call_task(
            commitment, kind, script=script.text, recipient=owner, escalate_at=escalate_at, now=self.now
        )
        row = Notification(
            commitment=commitment,
            kind=Kind.CALL_TASK,
            customer_kind=kind,
            channel=Channel.EMAIL,
            audience=Audience.STAFF,
            recipient=owner.email,
            recipient_user=owner,
            subject=content.subject,
            body=content.text,
            html_body=content.html,
            # Without an email address the owner still finds the task in the app.
            status=DeliveryStatus.PENDING if owner.email else DeliveryStatus.SUPPRESSED,
            scheduled_for=when,
            next_attempt_at=when,
            escalate_at=escalate_at,
            idempotency_key=f"{key}:call_task",
            created_at=self.now,
        )
        self.notifications.append(row)
        return row

    # --- Writing ----------------------------------------------------------------------------

    def save(self) -> list[int]:
        """Insert everything (a key already there is skipped) and enqueue what is due, after commit.

        Returns the ids of the pending rows due now.
        """
        if self.notifications:
            Notification.objects.bulk_create(self.notifications, ignore_conflicts=True)
        if self.events:
            TimelineEvent.objects.bulk_create(self.events)
        due_keys = [
            row.idempotency_key
            for row in self.notifications
            if row.status == DeliveryStatus.PENDING and row.next_attempt_at <= self.now
        ]
        due_now: list[int] = []
        if due_keys:
            due_now = list(
                Notification.objects.filter(
                    idempotency_key__in=due_keys, status=DeliveryStatus.PENDING, sent_at__isnull=True
                ).values_list("pk", flat=True)
            )
        if due_now:
            transaction.on_commit(lambda: _enqueue_delivery(due_now))
        self.notifications, self.events = [], []
        return due_now


def goes_by_text(customer: Customer) -> bool:
    """A message to this customer goes as a text (rather than email or a call task)."""
    wants_text = customer.preferred_channel == Channel.SMS or (
        customer.preferred_channel == Channel.EMAIL and not customer.email
    )
    return wants_text and bool(customer.phone) and not customer.sms_opted_out


def send_time(customer: Customer, when: datetime) -> datetime:
    """When a message made at ``when`` may reach this customer: a text waits out their quiet hours."""
    return quiet_hours.text_allowed_from(when, customer.zone) if goes_by_text(customer) else when


def notify_customer(
    commitment: Commitment,
    kind: str,
    *,
    key: str,
    message: str = "",
    scheduled_for: datetime | None = None,
    automatic: bool = False,
    since: datetime | None = None,
) -> list[Notification]:
    """Queue one message to the customer on their preferred channel (nothing when ``key`` exists)."""
    if Notification.objects.filter(idempotency_key__in=[key, f"{key}:call_task"]).exists():
        return []
    outgoing = Outgoing()
    row = outgoing.to_customer(
        commitment, kind, key=key, message=message, scheduled_for=scheduled_for, automatic=automatic, since=since
    )
    outgoing.save()
    return list(Notification.objects.filter(idempotency_key=row.idempotency_key))


def notify_staff(
    commitment: Commitment,
    kind: str,
    *,
    recipients: Iterable[User],
    key: str,
    message: str = "",
    scheduled_for: datetime | None = None,
    details: Mapping[str, Any] | None = None,
) -> list[Notification]:
    """Queue one email per member of staff; each key gets the recipient's id appended."""
    outgoing = Outgoing()
    rows = outgoing.to_staff(
        commitment, kind, recipients=recipients, key=key, message=message, scheduled_for=scheduled_for, details=details
    )
    outgoing.save()
    return list(Notification.objects.filter(idempotency_key__in=[row.idempotency_key for row in rows]))


def suppress_unsent(commitment: Commitment) -> int:
    """Nothing still waiting in the outbox for this commitment goes out, and no call task escalates."""
    Notification.objects.filter(commitment=commitment, escalate_at__isnull=False).update(escalate_at=None)
    return Notification.objects.filter(commitment=commitment, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SUPPRESSED, leased_until=None
    )


def _label(kind: str) -> str:
    return Kind(kind).label.lower() if kind in Kind.values else kind.replace("_", " ")


def _enqueue_delivery(notification_ids: list[int]) -> None:
    from notifications.tasks import deliver_notifications

    try:
        deliver_notifications.delay(notification_ids)
    except Exception:
        logger.warning("Could not enqueue delivery; the sweep will pick it up.", exc_info=True)
