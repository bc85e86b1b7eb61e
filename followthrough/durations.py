"""Durations as operators write them: ``10s``, ``15m``, ``4h``, ``2d`` (and combinations)."""

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """Read ``"90s"``, ``"4h"``, ``"1h30m"`` or a bare number of seconds; raise ValueError otherwise."""
    cleaned = str(text).strip().lower().replace(" ", "")
    if cleaned.isdigit():
        return timedelta(seconds=int(cleaned))
    if not cleaned or _PART.sub("", cleaned):
        raise ValueError(f"{text!r} is not a duration such as 90s, 15m, 4h or 2d")
    total = timedelta()
    for amount, unit in _PART.findall(cleaned):
        total += timedelta(**{_UNITS[unit]: int(amount)})
    return total


def format_duration(value: timedelta) -> str:
    """Write a duration the way it is read: ``timedelta(hours=24)`` -> ``"24h"``."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0 and not (unit == "d" and seconds < 2 * 86400):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_duration_list(text: str) -> list[timedelta]:
    """Read ``"24h,4h"`` into durations, longest first."""
    steps = [parse_duration(part) for part in str(text).split(",") if part.strip()]
    return sorted(steps, reverse=True)
