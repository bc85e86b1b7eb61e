def deliver(notification_ids: list[int]) -> None:
    pass
