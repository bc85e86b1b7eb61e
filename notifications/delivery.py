"""Delivery: claim pending outbox rows, send them, record the outcome. (Filled in by the engine.)"""


def deliver(notification_ids: list[int]) -> None:
    pass


def deliver_due() -> int:
    return 0
