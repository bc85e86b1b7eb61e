"""How big the delivery backlog is: enough to know whether one more worker should join in.

A worker that starts on the outbox and sees more than one claim's worth waiting asks for a second
task before it sends anything, and that one does the same when it starts: with a backlog, every
free worker gets a chain of its own at once (SKIP LOCKED keeps them off each other's rows),
instead of one chain hopping from worker to worker. Each task still stops after
``delivery.DEFAULT_LIMIT`` rows, so the number of tasks stays near backlog / limit.
"""

from django.db.models import Q
from django.utils import timezone

from notifications import clock, delivery
from notifications.models import DeliveryStatus, Notification


def more_than_one_claim_waiting() -> bool:
    """More rows are due and free than one claim takes (a short, index-only look, never a count of all)."""
    now = timezone.now()
    waiting = (
        Notification.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        # Leases are on the database's clock (``notifications.clock``), as ``delivery.claim`` reads them.
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=clock.database_now_in_query()))
        .order_by()
        .values_list("pk", flat=True)[delivery.BATCH_SIZE : delivery.BATCH_SIZE + 1]
    )
    return bool(list(waiting))
