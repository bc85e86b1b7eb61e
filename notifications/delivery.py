"""Delivery: how an outbox row gets out of the door, once.

1. Claim, in a short transaction: pending rows whose next attempt has come and whose lease is free
   are locked with ``SELECT ... FOR UPDATE SKIP LOCKED`` (so two workers never take the same row
   and never wait for each other), leased for ``FOLLOWTHROUGH_DELIVERY_LEASE`` and their
   ``attempts`` counted; commit.
2. Send, outside any transaction, on the row's channel (the routing rules looked at again first:
   a text to a number that said STOP since it was queued goes by email, or not at all).
3. Record the outcome with one conditional UPDATE that lands only while our claim still holds
   (same attempt number, same lease): sent; a transient failure goes back to pending with an
   exponential backoff; a permanent one fails the row, puts it on the commitment's timeline and
   tells the owner by email. Sent rows of a batch are recorded a few at a time, in one statement
   and one commit (``sent_records``).

A worker killed between 1 and 3 leaves a lease that simply expires: the row is claimed again and
sent. That send may repeat one that did go out just before the kill, the one unavoidable window;
it carries the same Message-ID / idempotency key so the receiver can drop it.

Leases are written and compared on the database's clock (``clock.database_now``), so workers whose
clocks disagree still agree on whose a row is. A row whose lease is already half spent when its
turn in a batch comes is handed back unsent, and every send gets a deadline inside what is left
of the lease (connect, login and the message all count, ``channels.deadline``), a tenth of the
lease kept to record the outcome: a send is over before another worker may take the row over.
The system check ``followthrough.E001`` refuses a lease shorter than twice the longest single
send (EMAIL_TIMEOUT, SMS_TIMEOUT).
"""

import logging
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import DateTimeField, F, Func, Q
from django.utils import timezone

from commitments.models import Channel, Customer, TimelineEvent
from commitments.services.timeline import new_event, record_event, record_events
from notifications import clock, engine_health, log_context, outbox, queueing, routing, sent_records
from notifications.channels import Channels, DeliveryFailure, PermanentFailure, TransientFailure, deadline
from notifications.models import Audience, DeliveryStatus, MessageKind, Notification

logger = logging.getLogger(__name__)

# Rows claimed at once: small enough that a batch is sent well inside one lease (50 sends take a
# fraction of a second on a working mail server), large enough that the claim's statements and
# commit are a small part of each message's cost.
BATCH_SIZE = 50
# Rows one deliver_due() call handles before it hands the rest to a follow-up task.
DEFAULT_LIMIT = 500
# The wait after the first failed attempt; it doubles with every attempt up to FOLLOWTHROUGH_RETRY_MAX.
FIRST_RETRY = timedelta(seconds=5)


@dataclass
class DeliveryReport:
    """What one delivery run did; ``retries`` maps each row left for another try to its next attempt."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    released: int = 0
    retries: dict[int, datetime] = field(default_factory=dict)
    more: bool = False

    @property
    def retrying(self) -> int:
        return len(self.retries)


def deliver(notification_ids: Iterable[int]) -> DeliveryReport:
    """Send these rows if they are due and nobody holds them (the task enqueued on commit)."""
    report = DeliveryReport()
    ids = sorted(set(notification_ids))
    for start in range(0, len(ids), BATCH_SIZE):
        send_claimed(claim(ids=ids[start : start + BATCH_SIZE]), report)
    return report


def deliver_due(*, limit: int = DEFAULT_LIMIT) -> DeliveryReport:
    """Send whatever is due, batch after batch, up to ``limit`` rows; ``more`` says if some are left."""
    report = DeliveryReport()
    while report.claimed < limit:
        batch = claim(limit=min(BATCH_SIZE, limit - report.claimed))
        if not batch:
            return report
        send_claimed(batch, report)
    report.more = True
    return report


def claim(*, ids: list[int] | None = None, limit: int = BATCH_SIZE) -> list[Notification]:
    """Lease up to ``limit`` due, unleased pending rows (of ``ids``, if given) to this worker.

    Commits before returning: the lease, not a held lock, is what keeps other workers off while
    we send. Each returned row carries the ``attempts`` and ``leased_until`` of this claim.
    """
    # Read before the database's clock: the lease's end on this worker's clock can only come early.
    now = timezone.now()
    lease = settings.FOLLOWTHROUGH_DELIVERY_LEASE
    # SQLite (the embedded default) runs one worker and has no row locks; PostgreSQL skips the
    # rows another worker is claiming this very moment instead of queueing behind it.
    skip_locked = connection.features.has_select_for_update_skip_locked
    with transaction.atomic():
        database_now = _transaction_start()
        due = Notification.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now).filter(
            Q(leased_until__isnull=True) | Q(leased_until__lte=database_now)
        )
        if ids is not None:
            due = due.filter(pk__in=ids)
        pks = list(
            due.order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=skip_locked)
            .values_list("pk", flat=True)[:limit]
        )
        if not pks:
            return []
        Notification.objects.filter(pk__in=pks).update(
            leased_until=database_now + lease,
            attempts=F("attempts") + 1,
        )
        batch = list(
            Notification.objects.filter(pk__in=pks)
            # Not the owner: only a message that failed for good needs them (to be told), and reads them then.
            .select_related("commitment__customer")
            .order_by("next_attempt_at", "pk")
        )
    for notification in batch:
        notification.lease_ends_here = now + lease
    return batch


def _transaction_start() -> Func | datetime:
    """The database's ``now()`` inside the claim's statements: what ``clock.database_now()`` reads, without
    a round trip of its own (Django's ``Now()`` is the statement's time on PostgreSQL, not the transaction's)."""
    if connection.vendor != "postgresql":
        return clock.database_now()
    return Func(template="now()", output_field=DateTimeField())


def retry_now(*, notification_ids: Iterable[int]) -> int:
    """Put failed (or backing-off) rows back in line for an attempt now; answer how many.

    Phone rows are left alone: they can never be sent automatically.
    """
    now = timezone.now()
    with transaction.atomic():
        database_now = clock.database_now()
        ids = list(
            Notification.objects.filter(
                pk__in=list(notification_ids), status__in=[DeliveryStatus.FAILED, DeliveryStatus.PENDING]
            )
            .exclude(channel=Channel.PHONE)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=database_now))
            .select_for_update()
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.PENDING, next_attempt_at=now, leased_until=None
        )
        if ids:
            transaction.on_commit(lambda: queueing.enqueue_delivery(ids))
    return len(ids)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed try: 5s, 10s, 20s, … up to the maximum.

    Up to a tenth more at random, so rows that failed together (mail down) do not all return at once.
    """
    ceiling = settings.FOLLOWTHROUGH_RETRY_MAX
    exponent = min(max(attempts, 1) - 1, 32)
    delay = min(FIRST_RETRY * (2**exponent), ceiling)
    return min(delay * (1 + random.uniform(0, 0.1)), ceiling)


# --- Sending a batch ------------------------------------------------------------------------


def send_claimed(batch: list[Notification], report: DeliveryReport | None = None) -> DeliveryReport:
    """Send rows this worker claimed, one after another, and record each outcome as it comes."""
    report = report or DeliveryReport()
    if not batch:
        return report
    report.claimed += len(batch)
    # The metrics' counters are bumped once a batch: three calls to Redis a message cost more than the send.
    outcomes: Counter[tuple[str, str]] = Counter()
    try:
        # Sent rows are recorded a few at a time (one commit for several sends), always before returning.
        with Channels() as channels, sent_records.batched(_sent_event):
            for notification in batch:
                sent_records.flush_if_due()  # Rows sent earlier are recorded before a slow send or failure.
                with log_context.about(notification):
                    _attempt(notification, channels, report, outcomes)
    finally:
        for (channel, outcome), count in outcomes.items():
            engine_health.count_outcome(channel, outcome, by=count)
    return report


def _attempt(
    notification: Notification, channels: Channels, report: DeliveryReport, outcomes: Counter[tuple[str, str]]
) -> None:
    assert notification.lease_ends_here is not None
    lease = settings.FOLLOWTHROUGH_DELIVERY_LEASE
    left = notification.lease_ends_here - timezone.now()
    if left < lease / 2:
        # This batch has been slow: another worker may take the row over soon. Give it back
        # unsent rather than race that worker to the wire.
        _release(notification)
        report.released += 1
        return
    # The customer may have texted STOP since this text was queued (held for the morning, say):
    # the routing rules say again which way it goes, as the outbox would send it now.
    rerouted = routing.at_the_door(
        _customer_of(notification),
        channel=notification.channel,
        audience=notification.audience,
        kind=notification.kind,
        at=timezone.now(),
    )
    if rerouted is not None:
        if rerouted.suppressed:
            _record_suppressed(notification, rerouted.reason)
            report.suppressed += 1
            return
        if not _switch_to_email(notification, rerouted):
            return
    try:
        with deadline.within((left - lease / 10).total_seconds()):
            channels.send(notification)
    except DeliveryFailure as failure:
        outcome: DeliveryFailure | None = failure
    except Exception as error:  # A bug or a surprise: keep the message, retry it, and say why.
        logger.exception("Unexpected error sending notification %s", notification.pk)
        outcome = TransientFailure(f"{type(error).__name__}: {error}")
    else:
        outcome = None
    outcomes[notification.channel, "sent" if outcome is None else "failed" if outcome.permanent else "retried"] += 1
    if outcome is None:
        _record_sent(notification)
        report.sent += 1
    elif isinstance(outcome, PermanentFailure):
        _record_failed(notification, outcome)
        report.failed += 1
    else:
        retry_at = _record_retry(notification, outcome)
        if retry_at is not None:
            report.retries[notification.pk] = retry_at


# --- Recording the outcome ------------------------------------------------------------------


def _our_claim(notification: Notification) -> Q:
    """The row as we claimed it: nobody has claimed it again since and it is still pending."""
    return Q(
        pk=notification.pk,
        attempts=notification.attempts,
        leased_until=notification.leased_until,
        status=DeliveryStatus.PENDING,
    )


def _record_sent(notification: Notification) -> None:
    now = timezone.now()
    if sent_records.hold(notification, now):
        return
    # Only while our lease holds on the database's clock (as ``sent_records.flush`` does). A
    # cancellation while the message was on the wire marked it suppressed (and dropped the lease);
    # it went out all the same, and the timeline must say so.
    sent_while_suppressed = Q(pk=notification.pk, attempts=notification.attempts, status=DeliveryStatus.SUPPRESSED)
    with transaction.atomic():
        recorded = (
            Notification.objects.filter(
                (_our_claim(notification) & Q(leased_until__gt=clock.database_now_in_query())) | sent_while_suppressed
            ).update(status=DeliveryStatus.SENT, sent_at=now, leased_until=None, last_error="")
            == 1
        )
        if not recorded:
            logger.warning(
                "Notification %s was sent, but its lease had run out (or another worker had claimed it again)"
                " before it was recorded",
                notification.pk,
            )
            return
        notification.status, notification.sent_at = DeliveryStatus.SENT, now
        _on_timeline(notification, f"{_what(notification)} sent to {notification.recipient}.", at=now)


def _record_retry(notification: Notification, failure: DeliveryFailure) -> datetime | None:
    # A retry must not wake the customer: a text that failed at 20:59 waits for the morning.
    retry_at = routing.earliest_send(
        timezone.now() + retry_delay(notification.attempts),
        customer=_customer_of(notification),
        channel=notification.channel,
        audience=notification.audience,
    )
    recorded = Notification.objects.filter(_our_claim(notification)).update(
        next_attempt_at=retry_at, leased_until=None, last_error=failure.reason
    )
    if not recorded:
        return None
    logger.info(
        "Notification %s: attempt %s failed (%s); next try at %s",
        notification.pk,
        notification.attempts,
        failure.reason,
        retry_at.isoformat(),
    )
    return retry_at


def _record_failed(notification: Notification, failure: DeliveryFailure) -> None:
    with transaction.atomic():
        recorded = Notification.objects.filter(_our_claim(notification)).update(
            status=DeliveryStatus.FAILED, leased_until=None, last_error=failure.reason
        )
        if not recorded:
            return
        notification.status, notification.last_error = DeliveryStatus.FAILED, failure.reason
        logger.warning("Notification %s failed for good: %s", notification.pk, failure.reason)
        _on_timeline(
            notification,
            f"{_what(notification)} to {notification.recipient} could not be delivered: {failure.reason}",
            error=failure.reason,
        )
        # Never an alert about a failed alert (no loops), nor about a digest (no commitment to put it on).
        if notification.kind != MessageKind.ALERT and notification.commitment is not None:
            _alert_owner(notification, failure)


def _switch_to_email(notification: Notification, way: routing.Route) -> bool:
    """Turn a claimed text into an email to the same customer; False if our claim was lost."""
    assert notification.commitment is not None  # Every customer message is about a commitment.
    subject = notification.subject or f"About: {notification.commitment.summary}"[:300]
    with transaction.atomic():
        switched = Notification.objects.filter(_our_claim(notification)).update(
            channel=way.channel, recipient=way.recipient, subject=subject
        )
        if not switched:
            return False
        record_event(
            notification.commitment,
            TimelineEvent.Kind.MESSAGE,
            message=way.note,
            data={"kind": notification.kind, "rerouted_from": notification.recipient, "channel": way.channel},
        )
    notification.channel, notification.recipient, notification.subject = way.channel, way.recipient, subject
    return True


def _record_suppressed(notification: Notification, reason: str) -> None:
    """Not sent, for ``reason`` (the routing rules'): recorded so, and on the timeline in the outbox's words."""
    with transaction.atomic():
        recorded = Notification.objects.filter(_our_claim(notification)).update(
            status=DeliveryStatus.SUPPRESSED, leased_until=None, last_error=reason
        )
        if recorded:
            notification.status = DeliveryStatus.SUPPRESSED
            _on_timeline(notification, reason, error=reason)


def _release(notification: Notification) -> None:
    """Hand the row back unsent: its attempt did not happen, so it does not count."""
    Notification.objects.filter(_our_claim(notification)).update(leased_until=None, attempts=F("attempts") - 1)


def _alert_owner(notification: Notification, failure: DeliveryFailure) -> None:
    commitment = notification.commitment
    assert commitment is not None
    who = "the customer" if notification.audience == Audience.CUSTOMER else notification.recipient
    outbox.notify_staff(
        commitment,
        MessageKind.ALERT,
        recipients=[commitment.owner],
        key=f"{commitment.pk}:delivery-failed:{notification.pk}",
        message=(
            f"We could not deliver the {notification.get_kind_display().lower()} to {who} "
            f"by {notification.get_channel_display().lower()} ({notification.recipient}): {failure.reason}. "
            "Please reach them another way and check their contact details."
        ),
    )


def _on_timeline(notification: Notification, message: str, *, at: datetime | None = None, error: str = "") -> None:
    event = _timeline_event(notification, message, at=at, error=error)
    if event is not None:
        record_events([event])


def _sent_event(notification: Notification, at: datetime) -> TimelineEvent | None:
    return _timeline_event(notification, f"{_what(notification)} sent to {notification.recipient}.", at=at)


def _timeline_event(
    notification: Notification, message: str, *, at: datetime | None = None, error: str = ""
) -> TimelineEvent | None:
    if notification.commitment_id is None:  # A lead's digest: about a team, on no timeline.
        return None
    data = {
        "notification_id": notification.pk,
        "kind": notification.kind,
        "channel": notification.channel,
        "recipient": notification.recipient,
        "audience": notification.audience,
        "status": notification.status,
        "attempts": notification.attempts,
    }
    if error:
        data["error"] = error
    # By its id: a batch's sent rows make their events without reading their commitments.
    return new_event(notification.commitment_id, TimelineEvent.Kind.MESSAGE, message=message, data=data, at=at)


def _customer_of(notification: Notification) -> Customer | None:
    """The customer a message is to (read with the claim); None for a lead's digest."""
    return notification.commitment.customer if notification.commitment else None


def _what(notification: Notification) -> str:
    # ``get_kind_display()`` and ``get_channel_display()``, without a dict of the choices built per call.
    kind = _KIND_LABELS.get(notification.kind, notification.kind)
    channel = _CHANNEL_LABELS.get(notification.channel, notification.channel)
    return f"{kind} by {str(channel).lower()}"


_KIND_LABELS = dict(MessageKind.choices)
_CHANNEL_LABELS = dict(Channel.choices)
