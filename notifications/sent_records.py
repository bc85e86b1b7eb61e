"""Recording sent messages a few at a time: one statement (its own commit) for several sends.

A message that went out must be marked sent (and put on its commitment's timeline) before its
lease runs out. Doing that with its own transaction costs three round trips to the database and a
commit (a disk flush) per message: more than the send itself on a busy machine. While a batch is
being sent (``delivery.send_claimed``), sent messages are therefore noted here and recorded
together, at the end of the batch, or as soon as the oldest has waited ``MAX_WAIT`` or ``MAX_HELD``
are waiting, whichever comes first, and in any case before the batch returns or raises.

The cost is a slightly wider "sent, not yet recorded" window: a worker killed in it sends those
few messages again once their lease expires, with the same Message-ID, as a single one would be.
Held rows are recorded well before their lease could run out (``flush_if_due``), and the UPDATE
itself only marks rows whose lease still holds on the database's clock.
"""

import contextvars
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from commitments.models import TimelineEvent
from notifications.models import DeliveryStatus, Notification

logger = logging.getLogger("notifications.delivery")

# Small on purpose: a worker killed with rows held sends them again (same Message-ID), so the
# window stays a handful of messages while most of the saving of one commit per batch remains.
MAX_HELD = 5
MAX_WAIT = 0.1  # seconds

Describe = Callable[[Notification, datetime], TimelineEvent | None]  # None: on no timeline (a digest)


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
    flush_if_due()
    return True


def flush_if_due() -> None:
    """Record what is held once enough waits, the oldest has waited long, or a lease nears its end.

    Called after each send is held and before each attempt (so a failed or slow send does not keep
    earlier sent rows waiting): a held row is recorded while its lease still has at least a fifth
    left, twice the tenth delivery keeps for recording an outcome.
    """
    pending = _current.get()
    if pending is None or not pending.held:
        return
    if (
        len(pending.held) >= MAX_HELD
        or time.monotonic() - pending.oldest >= MAX_WAIT
        or _lease_left(pending) <= settings.FOLLOWTHROUGH_DELIVERY_LEASE / 5
    ):
        flush(pending)


def _lease_left(pending: Pending) -> timedelta:
    """The least lease any held row has left, on this worker's clock (it can only come early)."""
    ends = [notification.lease_ends_here for notification, _ in pending.held if notification.lease_ends_here]
    if not ends:
        return timedelta(0)  # Nothing says how long the lease lasts: do not wait.
    return min(ends) - timezone.now()


def flush(pending: Pending) -> None:
    """Mark the held messages sent where our claim still holds, and put those on their timelines.

    One statement, in one round trip to the database and its own transaction (outside a caller's
    ``atomic`` block a single statement commits by itself): the UPDATE marks the rows, and the
    INSERT of the events, in the same statement, takes only the rows the UPDATE marked. Both land
    together or not at all, as they did in a transaction of their own (BEGIN, two statements and
    COMMIT: four round trips a group, each waking the worker and the database).
    """
    held, pending.held = pending.held, []
    if not held:
        return
    before = [(notification.status, notification.sent_at) for notification, _ in held]
    recorded: set[int] = set()
    try:
        events: list[tuple[int, TimelineEvent]] = []
        for notification, sent_at in held:
            # Described as they read once recorded; only those the UPDATE marks get their event.
            notification.status, notification.sent_at = DeliveryStatus.SENT, sent_at
            event = pending.describe(notification, sent_at)
            if event is not None:
                events.append((notification.pk, event))
        # Our claim (same attempt, same lease, still pending) while the lease still holds on the
        # database's clock (the clock leases are written on, ``notifications.clock``): a row whose
        # lease ran out is another worker's to send, even if nobody has claimed it yet, so it is
        # never marked sent here. Or a cancellation marked it suppressed while it was on the wire
        # (and dropped the lease; a suppressed row is never claimed again): it went out all the same,
        # and the timeline says so.
        columns, values = _event_columns([event for _, event in events])
        with connection.cursor() as cursor:
            cursor.execute(
                _statement(columns),
                [
                    [notification.pk for notification, _ in held],
                    [notification.attempts for notification, _ in held],
                    [notification.leased_until for notification, _ in held],
                    [sent_at for _, sent_at in held],
                    DeliveryStatus.SENT,
                    DeliveryStatus.PENDING,
                    DeliveryStatus.SUPPRESSED,
                    [pk for pk, _ in events],
                    *values,
                ],
            )
            recorded = {pk for (pk,) in cursor.fetchall()}
    finally:
        # A row not recorded (not ours any more, or the statement failed) reads as it did before.
        lost = []
        for (notification, _), (status, was_sent_at) in zip(held, before, strict=True):
            if notification.pk not in recorded:
                notification.status, notification.sent_at = status, was_sent_at
                lost.append(notification.pk)
    if lost:
        logger.warning(
            "Notifications %s were sent, but their lease had run out (or another worker had claimed them again)"
            " before it was recorded",
            lost,
        )


# The columns of a timeline event (``TimelineEvent``, but its id) and the types their arrays are
# written in. Character columns as ``text``: storing text in a ``varchar(n)`` column checks its length
# as a plain INSERT does, where an array cast to ``varchar(n)[]`` would cut a long value short.
EVENT_COLUMNS = (
    ("commitment_id", "bigint"),
    ("kind", "text"),
    ("actor_id", "bigint"),
    ("actor_label", "text"),
    ("message", "text"),
    ("data", "jsonb"),
    ("created_at", "timestamptz"),
)


def _event_columns(events: list[TimelineEvent]) -> tuple[tuple[tuple[str, str], ...], list[list[Any]]]:
    """The events' columns and, column by column, their values (``data`` as its JSON text)."""
    return EVENT_COLUMNS, [
        [event.commitment_id for event in events],
        [event.kind for event in events],
        [event.actor_id for event in events],
        [event.actor_label for event in events],
        [event.message for event in events],
        [json.dumps(event.data) for event in events],
        [event.created_at for event in events],
    ]


@lru_cache(maxsize=4)
def _statement(columns: tuple[tuple[str, str], ...]) -> str:
    """The statement ``flush`` sends: written once a process (the tables are our models', every value a parameter)."""
    table = Notification._meta.db_table
    events_table = TimelineEvent._meta.db_table
    names = ", ".join(f'"{name}"' for name, _ in columns)
    arrays = ", ".join(f"%s::{kind}[]" for _, kind in columns)
    return f"""
        WITH held AS (
            SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[], %s::timestamptz[])
              AS held (id, attempts, leased_until, sent_at)
        ), sent AS (
            UPDATE "{table}" AS row
            SET status = %s, sent_at = held.sent_at, leased_until = NULL, last_error = ''
            FROM held
            WHERE row.id = held.id AND row.attempts = held.attempts
              AND ((row.status = %s AND row.leased_until = held.leased_until AND row.leased_until > now())
                   OR row.status = %s)
            RETURNING row.id
        ), events AS (
            INSERT INTO "{events_table}" ({names})
            SELECT {names} FROM unnest(%s::bigint[], {arrays}) WITH ORDINALITY
              AS event (notification_id, {names}, sent_order)
            WHERE event.notification_id IN (SELECT id FROM sent)
            ORDER BY event.sent_order  -- the events' ids follow the order the messages went out
        )
        SELECT id FROM sent
    """  # noqa: S608
