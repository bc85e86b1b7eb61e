"""Quiet hours: no text reaches a customer during their local night (FOLLOWTHROUGH_QUIET_HOURS).

The window is wall-clock time in the customer's own zone, so it follows them across daylight-saving
changes: "21:00-08:00" ends at 08:00 local on the short spring day and on the long autumn one.
Email is never held back; only texts are.
"""

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class QuietHours:
    """A daily window of local wall-clock time; ``starts > ends`` means it runs over midnight."""

    starts: time
    ends: time

    def is_quiet(self, local: time) -> bool:
        if self.starts == self.ends:
            return False
        if self.starts < self.ends:
            return self.starts <= local < self.ends
        return local >= self.starts or local < self.ends

    def hold(self, moment: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
        """``moment`` itself outside the window, else the moment the window ends (in UTC)."""
        local = moment.astimezone(zone)
        if not self.is_quiet(local.time()):
            return moment
        day = local.date()
        if self.starts > self.ends and local.time() >= self.starts:
            day += timedelta(days=1)  # Evening: the window ends tomorrow morning.
        end = datetime.combine(day, self.ends, tzinfo=zone)
        # A wall-clock time inside a spring-forward gap does not exist; the round trip through UTC
        # lands on the first real moment after it.
        return end.astimezone(UTC)


@lru_cache(maxsize=8)
def parse_quiet_hours(text: str) -> QuietHours | None:
    """Read ``"21:00-08:00"``; an empty value or ``off`` means texts are never held."""
    if not text or text.strip().lower() in {"off", "none", "0"}:
        return None
    match = _WINDOW.match(text)
    if not match:
        raise ImproperlyConfigured(f"FOLLOWTHROUGH_QUIET_HOURS: {text!r} is not a window such as 21:00-08:00")
    start_hour, start_minute, end_hour, end_minute = (int(part) for part in match.groups())
    try:
        return QuietHours(time(start_hour, start_minute), time(end_hour, end_minute))
    except ValueError as error:
        raise ImproperlyConfigured(f"FOLLOWTHROUGH_QUIET_HOURS: {error}") from error


def configured_quiet_hours() -> QuietHours | None:
    return parse_quiet_hours(settings.FOLLOWTHROUGH_QUIET_HOURS)


def text_allowed_from(moment: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    """The earliest moment at or after ``moment`` when a text may reach a customer in ``zone``."""
    window = configured_quiet_hours()
    return moment if window is None else window.hold(moment, zone)
