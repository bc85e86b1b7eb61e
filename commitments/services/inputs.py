"""Cleaning what a person typed into a service: text limits, due times in the future, intervals in range.

Errors are collected per field, so one answer names every field that is wrong.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from commitments.errors import InvalidInput

MIN_UPDATE_INTERVAL = timedelta(seconds=10)
MAX_UPDATE_INTERVAL = timedelta(days=30)


def clean_text(value: str | None, field: str, *, required: str = "", limit: int = 5000) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput({field: [required]})
    if len(text) > limit:
        raise InvalidInput({field: [f"Keep this under {limit} characters."]})
    return text


def clean_update_interval(value: timedelta | None) -> timedelta:
    if value is None:
        return settings.FOLLOWTHROUGH_UPDATE_INTERVAL
    if not MIN_UPDATE_INTERVAL <= value <= MAX_UPDATE_INTERVAL:
        raise InvalidInput({"update_interval": ["Choose an interval between 10s and 30d."]})
    return value


def clean_future(value: datetime | None, field: str, now: datetime, *, what: str = "The due time") -> datetime:
    if value is None:
        raise InvalidInput({field: ["Enter the date and time."]})
    if timezone.is_naive(value):
        raise InvalidInput({field: ["Give the time with its UTC offset, e.g. 2026-11-25T10:00:00+01:00."]})
    if value <= now:
        raise InvalidInput({field: [f"{what} must be in the future."]})
    return value


def collect(errors: dict[str, Any], check: Callable[[], object]) -> Any:
    """Run one check, adding its field errors to ``errors`` so the caller can report all at once."""
    try:
        return check()
    except InvalidInput as error:
        errors.update(error.errors)
        return None
