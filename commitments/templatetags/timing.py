"""How the staff pages word time: "due in 3 h", "2 h overdue", and times in someone's own zone."""

import zoneinfo
from datetime import datetime, timedelta
from functools import lru_cache

from django import template
from django.utils import dateformat, timezone, translation
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR

from commitments import selectors
from commitments.models import Channel, Commitment, Status
from followthrough.durations import format_duration, parse_duration

register = template.Library()

URGENCY_NAMES = {
    selectors.OVERDUE: "overdue",
    selectors.UPDATE_DUE: "update-due",
    selectors.DUE_SOON: "soon",
    selectors.ON_TRACK: "",
}


def duration_words(delta: timedelta) -> str:
    """A short, honest length of time: ``45 min``, ``2 h 30 min``, ``5 h``, ``3 days``."""
    minutes = int(abs(delta).total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 3:
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    if hours < 48:
        return f"{hours} h"
    return f"{hours // 24} days"


@register.filter
def relative(moment: datetime | None, *, now: datetime | None = None) -> str:
    """``in 3 h`` or ``3 h ago``."""
    if moment is None:
        return ""
    delta = moment - (now or timezone.now())
    if abs(delta) < timedelta(minutes=1):
        return "just now" if delta <= timedelta(0) else "in under a minute"
    words = duration_words(delta)
    return f"in {words}" if delta > timedelta(0) else f"{words} ago"


@register.filter
def due_phrase(commitment: Commitment | selectors.ListedCommitment, *, now: datetime | None = None) -> str:
    """Where the promise stands against its due time, in a few words."""
    now = now or timezone.now()
    if commitment.status == Status.WAITING:
        return "clock paused"
    if commitment.status == Status.FULFILLED and commitment.fulfilled_at:
        return f"fulfilled {relative(commitment.fulfilled_at, now=now)}"
    if commitment.status == Status.CONFIRMED:
        return "confirmed by the customer"
    if commitment.status == Status.CANCELLED:
        return "cancelled"
    if commitment.due_at > now:
        return f"due in {duration_words(commitment.due_at - now)}"
    return f"{duration_words(now - commitment.due_at)} overdue"


@register.filter
def in_zone(moment: datetime | None, zone_name: str, *, now: datetime | None = None) -> str:
    """``Tue 25 Nov, 10:00`` as the clock reads in ``zone_name`` (the year only when it is not this one)."""
    if moment is None:
        return ""
    zone = zoneinfo.ZoneInfo(zone_name)
    local = timezone.localtime(moment, zone)
    # Worded as dateformat's "D j M, H:i" (with " Y" after the month) words it, in the active
    # language, without parsing the pattern anew for each of a list's rows.
    year = "" if local.year == timezone.localtime(now or timezone.now(), zone).year else f" {local.year:04d}"
    return f"{_weekday_day_month(local)}{year}, {local.hour:02d}:{local.minute:02d}"


def _weekday_day_month(local: datetime) -> str:
    weekdays, months = _calendar_words(translation.get_language())
    return f"{weekdays[local.weekday()]} {local.day} {months[local.month]}"


@lru_cache(maxsize=8)
def _calendar_words(language: str | None) -> tuple[tuple[str, ...], dict[int, str]]:
    """dateformat's "D" and "M" in ``language``, translated once rather than twice a row."""
    with translation.override(language):
        return tuple(str(WEEKDAYS_ABBR[day]) for day in range(7)), {
            month: str(MONTHS_3[month]).title() for month in range(1, 13)
        }


@register.filter
def zone_abbreviation(moment: datetime | None, zone_name: str) -> str:
    """``EST``, or the zone's name where it has no abbreviation (``+04``)."""
    local = timezone.localtime(moment or timezone.now(), zoneinfo.ZoneInfo(zone_name))
    name = local.tzname() or zone_name
    return name if name[0].isalpha() else zone_name


@register.filter
def local_time_now(zone_name: str) -> str:
    """The time it is now for someone in ``zone_name``: ``14:05``."""
    return dateformat.format(timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(zone_name)), "H:i")


@register.filter
def every(interval: timedelta | None) -> str:
    """``every 24 h``, ``every 4 h``, ``every 2 days``."""
    if interval is None:
        return ""
    written = format_duration(interval)
    for suffix, word in (("d", " days"), ("h", " h"), ("m", " min"), ("s", " s")):
        if written.endswith(suffix):
            return f"every {written[:-1]}{word}"
    return f"every {written}"


@register.filter
def urgency(commitment: Commitment) -> str:
    """``overdue``, ``update-due``, ``soon`` or empty: the badge a list row carries."""
    rank = getattr(commitment, "urgency", None)
    if rank is None:
        rank = selectors.urgency_of(commitment)
    return URGENCY_NAMES.get(rank, "")


@register.filter
def short_in_zone(moment: datetime | None, zone_name: str) -> str:
    """``Tue 07:00 EST``: a day and a clock time in someone else's zone, for a list row."""
    if moment is None:
        return ""
    local = timezone.localtime(moment, zoneinfo.ZoneInfo(zone_name))
    name = local.tzname() or zone_name  # As zone_abbreviation words it, from the time in hand.
    abbreviation = name if name[0].isalpha() else zone_name
    weekday = _calendar_words(translation.get_language())[0][local.weekday()]
    return f"{weekday} {local.hour:02d}:{local.minute:02d} {abbreviation}"


@register.filter
def iso_time(text: str | None) -> datetime | None:
    """A timeline event's stored ISO 8601 time, back into a datetime (None when it is not one)."""
    try:
        return datetime.fromisoformat(text) if text else None
    except (TypeError, ValueError):
        return None


@register.filter
def seconds_words(seconds: int | None) -> str:
    return duration_words(timedelta(seconds=int(seconds or 0)))


@register.filter
def channel_label(value: str) -> str:
    try:
        return str(Channel(value).label)
    except ValueError:
        return value


FIELD_LABELS = {
    "summary": "What was promised",
    "details": "Details",
    "update_interval": "Update interval",
    "target_at": "Own target",
    "name": "Name",
    "email": "Email",
    "phone": "Phone",
    "preferred_channel": "Preferred channel",
    "timezone": "Time zone",
    "sms_opted_out": "Texts stopped",
    "email_updates_opted_out": "Email updates stopped",
}


@register.filter
def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


@register.filter
def change_value(value: object, field: str) -> str:
    """One side of an edit on the timeline, worded as the page words it."""
    if value in (None, ""):
        return ""
    if field == "target_at":
        moment = iso_time(str(value))
        return in_zone(moment, timezone.get_current_timezone_name()) if moment else str(value)
    if field == "update_interval":
        try:
            return every(parse_duration(str(value))).capitalize()
        except ValueError:
            pass
    return str(value)
