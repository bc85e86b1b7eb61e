"""Fake SMS providers for delivery tests: real local servers that speak the providers' protocols.

``mail_server`` (tests/conftest.py) is the real SMTP server; these are its SMS counterparts.
"""

from collections.abc import Iterator

import pytest

from tests.fakes.sms_webhook import SmsWebhook
from tests.fakes.twilio import TwilioApi


@pytest.fixture
def sms_webhook(settings) -> Iterator[SmsWebhook]:
    """An SMS gateway behind the contract's webhook; the app's texts go to it."""
    server = SmsWebhook().start()
    settings.SMS_BACKEND = "webhook"
    settings.SMS_WEBHOOK_URL = server.url
    settings.SMS_TIMEOUT = 1
    yield server
    server.stop()


@pytest.fixture
def twilio_api(settings) -> Iterator[TwilioApi]:
    """A local Twilio Messages API; the official SDK is pointed at it."""
    server = TwilioApi().start()
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = server.account_sid
    settings.TWILIO_AUTH_TOKEN = server.auth_token
    settings.TWILIO_FROM_NUMBER = server.from_number
    settings.TWILIO_API_BASE_URL = server.base_url
    settings.SMS_TIMEOUT = 2
    yield server
    server.stop()


@pytest.fixture
def daytime_zone() -> str:
    """A customer time zone where it is early afternoon right now, so no text is held for quiet hours."""
    return daytime_zone_now()


def daytime_zone_now() -> str:
    from django.utils import timezone

    offset = 13 - timezone.now().hour  # Hours ahead of UTC; between -10 and +13.
    if offset == 0:
        return "Etc/GMT"
    # IANA's Etc zones count the other way round: Etc/GMT-3 is three hours ahead of UTC.
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"
