"""Recording sent messages a few at a time: one UPDATE, one INSERT and one commit for several sends.

A message that went out must be marked sent (and put on its commitment's timeline) before its
lease runs out. Doing that with its own transaction costs three round trips to the database and a
commit (a disk flush) per message: more than the send itself on a busy machine. While a batch is
being sent (``delivery.send_claimed``), sent messages are therefore noted here and recorded
together, at the end of the batch, or as soon as the oldest has waited ``MAX_WAIT`` or ``MAX_HELD``
are waiting, whichever comes first, and in any case before the batch returns or raises.

The cost is a slightly wider "sent, not yet recorded" window: a worker killed in it sends those
few messages again once their lease expires, with the same Message-ID, as a single one would be.
"""

import contextvars
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from commitments.models import TimelineEvent
from notifications.models import DeliveryStatus, Notification

logger = logging.getLogger("notifications.delivery")

MAX_HELD = 20
MAX_WAIT = 0.25  # seconds

Describe = Callable[[Notification, datetime], TimelineEvent]


@dataclass
class Pending:
    describe: Describe
    held: list[tuple[Notification, datetime]] = field(default_factory=list)
    oldest: float = 0.0


_current: contextvars.ContextVar[Pending | None] = contextvars.ContextVar("sent_records", default=None)


@contextmanager
def batched(describe: Describe) -> Iterator[None]:
    """Within this block, ``hold()`` keeps sent messages to record them together; all are recorded on leaving."""
    if connection.vendor != "postgresql" or _current.get() is not None:
        yield  # SQLite runs one worker with few messages: one at a time is fine there.
        return
    pending = Pending(describe)
    token = _current.set(pending)
    try:
        yield
    finally:
        _current.reset(token)
        flush(pending)


def hold(notification: Notification, sent_at: datetime) -> bool:
    """Keep a sent message to record with others; False when no batch is open (record it now)."""
    pending = _current.get()
    if pending is None:
        return False
    if not pending.held:
        pending.oldest = time.monotonic()
    pending.held.append((notification, sent_at))
    if len(pending.held) >= MAX_HELD or time.monotonic() - pending.oldest >= MAX_WAIT:
        flush(pending)
    return True


def flush(pending: Pending) -> None:
    """Mark the held messages sent where our claim still holds, and put those on their timelines."""
    held, pending.held = pending.held, []
    if not held:
        return
    values = ", ".join(["(%s, %s, %s::timestamptz, %s::timestamptz)"] * len(held))
    params: list[Any] = []
    for notification, sent_at in held:
        params += [notification.pk, notification.attempts, notification.leased_until, sent_at]
    table = Notification._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        # Our claim (same attempt, same lease, still pending); or a cancellation marked it
        # suppressed while it was on the wire: it went out all the same, and the timeline says so.
        # The table is our model's and every value a parameter: nothing from outside is spliced in.
        statement = f"""
            UPDATE "{table}" AS row
            SET status = %s, sent_at = held.sent_at, leased_until = NULL, last_error = ''
            FROM (VALUES {values}) AS held (id, attempts, leased_until, sent_at)
            WHERE row.id = held.id AND row.attempts = held.attempts
              AND ((row.status = %s AND row.leased_until = held.leased_until) OR row.status = %s)
            RETURNING row.id
        """  # noqa: S608
        cursor.execute(statement, [DeliveryStatus.SENT, *params, DeliveryStatus.PENDING, DeliveryStatus.SUPPRESSED])
        recorded = {pk for (pk,) in cursor.fetchall()}
        events = []
        for notification, sent_at in held:
            if notification.pk in recorded:
                notification.status, notification.sent_at = DeliveryStatus.SENT, sent_at
                events.append(pending.describe(notification, sent_at))
        TimelineEvent.objects.bulk_create(events)
    lost = [notification.pk for notification, _ in held if notification.pk not in recorded]
    if lost:
        logger.warning(
            "Notifications %s were sent, but another worker had claimed them again after the lease ran out", lost
        )
