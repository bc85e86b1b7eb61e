"""Celery tasks: thin callers of the delivery and sweep services, safe to run twice.

Nothing here decides what to send. Running a task twice, or two workers running it at once, is
harmless: delivery only takes rows it leased itself, and sweeps only make rows whose keys are new.

Follow-ups: a delivery that leaves rows retrying sooner than the next sweep enqueues one task for
them at that moment, so short backoffs are honoured; a backoff longer than a sweep interval is
left to the sweep. ``deliver_due`` handles at most ``delivery.DEFAULT_LIMIT`` rows per call (in
batches of ``delivery.BATCH_SIZE``); when more than one batch is due as it starts, it first enqueues
a ``deliver_backlog`` task, which does the same, so every free worker joins in at once and the
backlog drains in parallel across workers (see ``notifications.backlog``). The sweep does the same
with ``sweep_backlog`` when a claim comes back full: a catch-up after an outage is swept by every
free worker.
"""

import logging
import time
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from notifications import backlog, delivery, digests, engine_health, sweeps

logger = logging.getLogger(__name__)

# The database restarting is the one failure worth a quick task retry; anything else is a bug,
# and the periodic sweep picks the rows up again in any case.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRIED_WHILE_THE_DATABASE_RESTARTS: dict[str, Any] = {
    "autoretry_for": DATABASE_UNAVAILABLE,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "max_retries": 5,
    "ignore_result": True,
}


@shared_task(
    name="notifications.tasks.deliver_notifications",
    **RETRIED_WHILE_THE_DATABASE_RESTARTS,
)
def deliver_notifications(notification_ids: list[int]) -> None:
    """Send these outbox rows now (enqueued on commit by the change that made them)."""
    report = delivery.deliver(notification_ids)
    _follow_up_retries(report)


@shared_task(name="notifications.tasks.sweep", ignore_result=True)
def sweep() -> None:
    """Beat's tick: turn due commitments into outbox rows, then deliver whatever is due."""
    started = time.monotonic()
    try:
        counts = sweeps.run_sweeps(on_backlog=_ask_for_a_sweeping_hand)
        _record_tick(started, swept=sum(counts.values()))
        digests.send_due_digests()  # The leads' daily digests ride on the same tick.
    finally:
        # A sweep that broke must not hold back messages already in the outbox.
        _deliver_due()


@shared_task(
    name="notifications.tasks.sweep_backlog",
    **RETRIED_WHILE_THE_DATABASE_RESTARTS,
)
def sweep_backlog() -> None:
    """More was due than one batch: sweep alongside the tick (and ask for one more hand if still more)."""
    sweeps.run_sweeps(on_backlog=_ask_for_a_sweeping_hand)


def _ask_for_a_sweeping_hand() -> None:
    # One helper per sweep that finds a full batch: with a backlog every free worker joins in, one
    # after another, and a helper that arrives after the work is done costs one query.
    try:
        sweep_backlog.delay()
    except Exception:  # Without the broker this sweep still does all the work, alone.
        logger.warning("Could not enqueue a helper for the sweep's backlog", exc_info=True)


def _record_tick(started: float, *, swept: int) -> None:
    """Beat's tick, for operators (``/readyz``, ``/metrics``); losing one never fails the sweep."""
    try:
        engine_health.record_sweep(duration=timedelta(seconds=time.monotonic() - started), swept=swept)
    except DATABASE_UNAVAILABLE:
        logger.warning("Could not record the sweep's tick", exc_info=True)


@shared_task(
    name="notifications.tasks.deliver_backlog",
    **RETRIED_WHILE_THE_DATABASE_RESTARTS,
)
def deliver_backlog() -> None:
    """More was due than one call handles: carry on, and pass the rest on again."""
    _deliver_due()


def _deliver_due() -> None:
    # Ask for a helper before sending, not after: a backlog then fans out to every free worker.
    helped = backlog.more_than_one_claim_waiting()
    if helped:
        try:
            deliver_backlog.delay()
        except Exception:  # Without the broker this worker still sends; the sweep fans out later.
            logger.warning("Could not enqueue a helper for the delivery backlog", exc_info=True)
            helped = False
    report = delivery.deliver_due()
    _follow_up_retries(report)
    if report.more and not helped:
        deliver_backlog.delay()


def _follow_up_retries(report: delivery.DeliveryReport) -> None:
    horizon = timezone.now() + settings.FOLLOWTHROUGH_SWEEP_INTERVAL
    soon = {pk: moment for pk, moment in report.retries.items() if moment < horizon}
    if not soon:
        return
    try:
        deliver_notifications.apply_async((sorted(soon),), eta=max(soon.values()))
    except Exception:  # Without the broker the sweep still retries them, only a little later.
        logger.warning("Could not enqueue the retry of %s", sorted(soon), exc_info=True)
