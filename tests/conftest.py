from collections.abc import Iterator

import pytest
from django.core.cache import cache

from accounts.models import Membership
from tests.factories import MembershipFactory, TeamFactory, UserFactory
from tests.fakes.sms_webhook import SmsWebhook
from tests.fakes.twilio import TwilioApi
from tests.live import daytime_zone_now


def pytest_report_header(config: pytest.Config) -> list[str]:
    from django.conf import settings

    database = settings.DATABASES["default"]
    return [
        f"database: {database['ENGINE'].rsplit('.', 1)[-1]} {database.get('HOST') or ''}:{database.get('PORT') or ''}",
        f"celery broker: {settings.CELERY_BROKER_URL}",
    ]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Every staff user a fixture makes hashes a password; a cheap hasher keeps the suite quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters live in the cache; each test starts with none spent."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def team(db):
    return TeamFactory(name="Home Repairs", timezone="America/New_York")


@pytest.fixture
def agent(team):
    user = UserFactory(username="alex", first_name="Alex", last_name="Rivera")
    MembershipFactory(user=user, team=team, role=Membership.Role.AGENT)
    return user


@pytest.fixture
def colleague(team):
    user = UserFactory(username="sam", first_name="Sam", last_name="Okafor")
    MembershipFactory(user=user, team=team, role=Membership.Role.AGENT)
    return user


@pytest.fixture
def lead(team):
    user = UserFactory(username="lee", first_name="Lee", last_name="Chen")
    MembershipFactory(user=user, team=team, role=Membership.Role.LEAD)
    return user


@pytest.fixture
def outsider(db):
    """An agent of another team, who must never see this team's commitments."""
    other_team = TeamFactory(name="Billing")
    user = UserFactory(username="morgan", first_name="Morgan", last_name="Blake")
    MembershipFactory(user=user, team=other_team, role=Membership.Role.AGENT)
    return user


@pytest.fixture
def mail_server(settings):
    """A real SMTP server for this test; the app's mail goes to it."""
    from tests.fakes.smtp import MailServer

    server = MailServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.stop()


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
