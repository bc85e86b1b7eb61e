"""Times, durations, names and phone numbers as the messages write them, in the customer's language."""

from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from babel.dates import format_datetime
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext

# --- Time and words -------------------------------------------------------------------------


# Written out here rather than with strftime: a sweep writes thousands of times a second, and
# these are the names strftime gives in the C locale the app runs in.
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _clock(local: datetime) -> str:
    return f"{local.hour % 12 or 12}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


@lru_cache(maxsize=256)
def _year_in(now: datetime, zone: ZoneInfo) -> int:
    return now.astimezone(zone).year


def long_time(moment: datetime, zone: ZoneInfo, *, now: datetime | None = None, language: str | None = None) -> str:
    """``Wednesday 25 November at 3:00 PM EST`` (the year only when it is not this year's).

    In ``language`` (else the active one): ``miércoles 25 de noviembre a las 15:00 CET`` in Spanish.
    """
    language = language or translation.get_language() or "en"
    if not language.startswith("en"):
        return _long_time_in(moment, zone, _year_in(now or timezone.now(), zone), language)
    return _long_time(moment, zone, _year_in(now or timezone.now(), zone))


# A sweep writes the same few moments into many messages (the next update is one interval from
# now for every customer of a batch): each is written out once.
@lru_cache(maxsize=4096)
def _long_time(moment: datetime, zone: ZoneInfo, this_year: int) -> str:
    local = moment.astimezone(zone)
    year = "" if local.year == this_year else f" {local.year}"
    return f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}{year} at {_clock(local)} {local.tzname()}"


def short_time(moment: datetime, zone: ZoneInfo, *, language: str | None = None) -> str:
    """``Wed 25 Nov 3:00 PM EST``: for texts, where every character counts (``mié 25 nov 15:00 CET``)."""
    language = language or translation.get_language() or "en"
    if not language.startswith("en"):
        return _short_time_in(moment, zone, language)
    return _short_time(moment, zone)


@lru_cache(maxsize=4096)
def _short_time(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{_DAYS[local.weekday()][:3]} {local.day} {_MONTHS[local.month - 1][:3]} {_clock(local)} {local.tzname()}"


# Other languages write dates the way CLDR (through Babel) says, in patterns their catalog gives:
# the translator decides the order of day and month, the words around them and the clock. Each is
# written once per language, with that language's catalog active (the caller's may be another).
@lru_cache(maxsize=4096)
def _long_time_in(moment: datetime, zone: ZoneInfo, this_year: int, language: str) -> str:
    with in_language(language):
        return _written_long_time_in(moment.astimezone(zone), this_year, language)


def _written_long_time_in(local: datetime, this_year: int, language: str) -> str:
    # Translators: a Unicode CLDR date pattern (https://unicode.org/reports/tr35/tr35-dates.html).
    pattern = (
        pgettext("date pattern", "EEEE d MMMM")
        if local.year == this_year
        else pgettext("date pattern", "EEEE d MMMM y")
    )
    locale = _babel_locale(language)
    return gettext("%(date)s at %(time)s %(zone)s") % {
        "date": format_datetime(local, pattern, locale=locale),
        "time": format_datetime(local, pgettext("time pattern", "h:mm a"), locale=locale),
        "zone": local.tzname(),
    }


@lru_cache(maxsize=4096)
def _short_time_in(moment: datetime, zone: ZoneInfo, language: str) -> str:
    local = moment.astimezone(zone)
    locale = _babel_locale(language)
    with in_language(language):
        date = format_datetime(local, pgettext("short date pattern", "EEE d MMM"), locale=locale)
        clock = format_datetime(local, pgettext("time pattern", "h:mm a"), locale=locale)
    return f"{date} {clock} {local.tzname()}"


def _babel_locale(language: str) -> str:
    return language.replace("-", "_")


def in_language(code: str) -> AbstractContextManager[object]:
    """Words in ``code``: a switch only when another language is active (a sweep writes thousands)."""
    return nullcontext() if translation.get_language() == code else translation.override(code)


def describe_duration(value: timedelta) -> str:
    """``2 days 3 hours``, ``4 hours``, ``8 seconds``: the largest unit and the next one, rounded."""
    seconds = max(0, round(value.total_seconds()))
    if seconds >= 86400:
        seconds = round(seconds / 3600) * 3600
    elif seconds >= 3600:
        seconds = round(seconds / 60) * 60
    units = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
    for index, (name, size) in enumerate(units):
        if seconds >= size:
            major, rest = divmod(seconds, size)
            parts = [_plural(major, name)]
            if index + 1 < len(units) and rest >= units[index + 1][1]:
                parts.append(_plural(rest // units[index + 1][1], units[index + 1][0]))
            return " ".join(parts)
    return "0 seconds"


@lru_cache(maxsize=256)
def every(value: timedelta) -> str:
    """``every day``, ``every 6 hours``."""
    words = describe_duration(value)
    return f"every {words[2:]}" if words.startswith("1 ") and " " not in words[2:] else f"every {words}"


def _plural(amount: int, unit: str) -> str:
    return f"{amount} {unit}{'' if amount == 1 else 's'}"


def as_sentence(text: str) -> str:
    """The words with a full stop, unless they already end a sentence."""
    text = (text or "").strip()
    if not text or text[-1] in ".!?…:)\"'":
        return text
    return f"{text}."


def as_phrase(text: str) -> str:
    """The words on one line without a trailing full stop, to sit inside a sentence."""
    return " ".join((text or "").split()).rstrip(".").strip()


def first_name(name: str) -> str:
    return (name or "").strip().split(" ")[0] or "there"


def readable_phone(e164: str) -> str:
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164
