"""Contact details written one way: email and phone normalised, time zones known. Pure: reads and writes both use it."""

import re
import zoneinfo
from functools import cache

import phonenumbers
from django.conf import settings


def normalize_email(raw: str) -> str:
    return (raw or "").strip().lower()


# North America's 555 numbers (the 555 exchange, or 555 written as the area code) are where
# documentation, demos and tests write their numbers (the contract's own example is +15555550100),
# so they are accepted although few are in service.
FICTIONAL_NANP = re.compile(r"^(555\d{7}|\d{3}555\d{4})$")


def normalize_phone(raw: str) -> str:
    """E.164 for a valid number (national numbers read in FOLLOWTHROUGH_PHONE_REGION); raise ValueError."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, settings.FOLLOWTHROUGH_PHONE_REGION)
    except phonenumbers.NumberParseException as error:
        raise ValueError("Enter a valid phone number, e.g. +15555550100.") from error
    fictional = number.country_code == 1 and FICTIONAL_NANP.match(str(number.national_number))
    if not (phonenumbers.is_valid_number(number) or fictional):
        raise ValueError("Enter a valid phone number, e.g. +15555550100.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@cache
def known_timezones() -> frozenset[str]:
    """The IANA zone names (reading them walks the tz database, so once per process)."""
    return frozenset(zoneinfo.available_timezones())
