"""Handing new outbox rows to a delivery worker: the one place the engine enqueues the Celery task.

Called after the transaction that made (or re-queued) the rows commits. A lost enqueue (the broker
down) loses nothing: the periodic sweep delivers whatever is due all the same.
"""

import logging

logger = logging.getLogger(__name__)


def enqueue_delivery(notification_ids: list[int]) -> None:
    # A late import: the task module sits above the outbox and delivery that call this.
    from notifications.tasks import deliver_notifications

    try:
        deliver_notifications.delay(notification_ids)
    except Exception:  # The broker is down: the periodic sweep delivers these all the same.
        logger.warning("Could not enqueue delivery of %s; the sweep will pick them up", notification_ids, exc_info=True)
