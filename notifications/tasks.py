"""Celery tasks: thin callers of the delivery and sweep services, safe to run twice."""

from celery import shared_task

from notifications import delivery, sweeps


@shared_task(name="notifications.tasks.deliver_notifications")
def deliver_notifications(notification_ids: list[int]) -> None:
    """Send these outbox rows now (enqueued on commit by the change that made them)."""
    delivery.deliver(notification_ids)


@shared_task(name="notifications.tasks.sweep")
def sweep() -> None:
    """Beat's tick: turn due commitments into outbox rows, then deliver whatever is due."""
    sweeps.run_sweeps()
    delivery.deliver_due()
