from celery import shared_task


@shared_task(name="notifications.tasks.deliver_notifications")
def deliver_notifications(notification_ids: list[int]) -> None:
    from notifications import delivery

    delivery.deliver(notification_ids)


@shared_task(name="notifications.tasks.sweep")
def sweep() -> None:
    pass
