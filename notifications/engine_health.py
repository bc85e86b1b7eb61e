"""The engine's health, as operators read it: beat's last tick, the outbox's backlog, sends counted.

- ``record_sweep`` is called by the sweep task on every tick: when it ran (on the database's
  clock), how long the sweeps took and how many commitments they handled.
- ``count_outcome`` counts each send's outcome per channel in the shared cache (Redis in
  production): counters every worker adds to and ``/metrics`` reads, cheap to bump and never a
  scan of the outbox. They start again from zero if Redis restarts, which Prometheus allows for.
- ``engine_state`` reads it all for ``/readyz``, ``/metrics`` and the Delivery page: the backlog
  comes from the pending rows alone (a partial index keeps them apart from the sent history).

Mail is *stuck* when a message has been due for longer than one sweep interval and is still not
out: every due message goes out at once through its task, or at the latest on the next sweep, so
anything older than that is waiting on a fault. Beat is *ticking* while its last sweep is no older
than two sweep intervals (plus ten seconds for a slow sweep).
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Min, Q
from django.utils import timezone

from commitments.models import Channel
from notifications import clock
from notifications.models import DeliveryStatus, Notification, SweepTick

logger = logging.getLogger(__name__)

SWEEP = "sweep"
OUTCOMES = ("sent", "failed", "retried")
CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.PHONE)
BEAT_GRACE = timedelta(seconds=10)


def record_sweep(*, duration: timedelta, swept: int) -> None:
    """Write beat's tick: when this sweep ran, how long it took and how many commitments it handled."""
    finished = clock.database_now()
    values = {"started_at": finished - duration, "finished_at": finished, "duration_seconds": duration.total_seconds()}
    values["commitments_swept"] = swept
    if SweepTick.objects.filter(name=SWEEP).update(runs=F("runs") + 1, **values):
        return
    try:
        with transaction.atomic():
            SweepTick.objects.create(name=SWEEP, runs=1, **values)
    except IntegrityError:  # A second beat's first tick, at the same moment: its row stands.
        SweepTick.objects.filter(name=SWEEP).update(runs=F("runs") + 1, **values)


def count_outcome(channel: str, outcome: str, *, by: int = 1) -> None:
    """Add ``by`` to the ``outcome`` counter of ``channel``; never fails a send for want of Redis."""
    key = f"followthrough:delivery:{outcome}:{channel}"
    try:
        cache.add(key, 0, timeout=None)
        cache.incr(key, by)
    except Exception:  # The cache is down: the message is what matters, not its count.
        logger.debug("Could not count a %s %s", channel, outcome, exc_info=True)


def outcome_counts() -> dict[tuple[str, str], int]:
    keys = {
        f"followthrough:delivery:{outcome}:{channel}": (outcome, channel)
        for outcome in OUTCOMES
        for channel in CHANNELS
    }
    try:
        found = cache.get_many(list(keys))
    except Exception:
        logger.warning("Could not read the delivery counters from the cache", exc_info=True)
        found = {}
    return {pair: int(found.get(key) or 0) for key, pair in keys.items()}


@dataclass
class Backlog:
    """The pending messages of one channel."""

    channel: str
    pending: int = 0
    due: int = 0
    retrying: int = 0
    oldest_due_at: datetime | None = None


@dataclass
class EngineState:
    now: datetime
    last_tick: SweepTick | None
    beat_ticking: bool
    backlog: dict[str, Backlog] = field(default_factory=dict)
    stuck_after: timedelta = timedelta(0)

    @property
    def beat_age(self) -> timedelta | None:
        return None if self.last_tick is None else max(self.now - self.last_tick.finished_at, timedelta(0))

    @property
    def oldest_due_at(self) -> datetime | None:
        moments = [line.oldest_due_at for line in self.backlog.values() if line.oldest_due_at is not None]
        return min(moments, default=None)

    @property
    def oldest_due_age(self) -> timedelta:
        oldest = self.oldest_due_at
        return timedelta(0) if oldest is None else max(timezone.now() - oldest, timedelta(0))

    @property
    def stuck(self) -> bool:
        return self.oldest_due_age > self.stuck_after


def engine_state() -> EngineState:
    now = clock.database_now()
    last_tick = SweepTick.objects.filter(name=SWEEP).first()
    interval = settings.FOLLOWTHROUGH_SWEEP_INTERVAL
    ticking = last_tick is not None and now - last_tick.finished_at <= 2 * interval + BEAT_GRACE
    # Message times are written on the clocks of the processes that made them: compare with ours.
    here = timezone.now()
    rows = (
        Notification.objects.filter(status=DeliveryStatus.PENDING)
        .values("channel")
        .annotate(
            pending=Count("pk"),
            due=Count("pk", filter=Q(scheduled_for__lte=here)),
            retrying=Count("pk", filter=Q(attempts__gt=0)),
            oldest_due_at=Min("scheduled_for", filter=Q(scheduled_for__lte=here)),
        )
        .order_by("channel")
    )
    backlog: dict[str, Backlog] = {str(channel): Backlog(channel=channel) for channel in CHANNELS}
    for row in rows:
        backlog[row["channel"]] = Backlog(**row)
    return EngineState(now=now, last_tick=last_tick, beat_ticking=ticking, backlog=backlog, stuck_after=interval)
