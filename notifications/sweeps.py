"""The periodic sweeps: due commitments become outbox rows. (Filled in by the engine.)"""

from datetime import datetime


def run_sweeps(*, now: datetime | None = None) -> dict[str, int]:
    return {}
