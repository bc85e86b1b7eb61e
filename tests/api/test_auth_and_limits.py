"""Who may call the API, and how often."""

import pytest
from django.test import override_settings
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from accounts.api_tokens import digest_of
from accounts.models import ApiToken
from tests import live
from tests.api.conftest import API, client_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_staff_member_trades_username_and_password_for_their_token(agent):
    response = APIClient().post(f"{API}/auth/token/", {"username": "alex", "password": PASSWORD}, format="json")

    assert response.status_code == 200
    # Tokens are stored hashed now: the answer's token is the one whose digest is on file.
    assert set(response.json()) == {"token"}
    assert ApiToken.objects.get(user=agent).digest == digest_of(response.json()["token"])
    # And the token opens the API
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get(f"{API}/commitments/").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "alex", "password": "wrong"}, "non_field_errors"),
        ({"username": "alex"}, "password"),
        ({"password": PASSWORD}, "username"),
        ({"username": ["alex"], "password": PASSWORD}, "username"),
    ],
)
def test_a_wrong_or_missing_credential_is_a_400_in_drfs_shape(agent, body, field):
    response = APIClient().post(f"{API}/auth/token/", body, format="json")

    assert response.status_code == 400
    assert isinstance(response.json()[field], list)
    assert not ApiToken.objects.exists()


def test_a_stale_token_sent_along_does_not_stop_logging_in(agent):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.post(f"{API}/auth/token/", {"username": "alex", "password": PASSWORD}, format="json")

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "commitments/"),
        ("post", "commitments/"),
        ("get", "commitments/1/"),
        ("patch", "commitments/1/"),
        ("post", "commitments/1/fulfil/"),
        ("get", "commitments/1/timeline/"),
        ("get", "notifications/"),
        ("get", "teams/"),
    ],
)
def test_no_token_is_a_401_that_says_how_to_authenticate(db, method, path):
    response = getattr(APIClient(), method)(f"{API}/{path}", {}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "detail" in response.json()


def test_a_wrong_token_is_a_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")

    response = client.get(f"{API}/commitments/")

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_a_signed_in_browser_session_works_too(client, agent, commitment):
    client.force_login(agent)

    response = client.get(f"{API}/commitments/{commitment.pk}/")

    assert response.status_code == 200
    assert response.json()["id"] == commitment.pk


def test_a_session_post_needs_the_csrf_token(agent, commitment):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(agent)

    response = browser.post(f"{API}/commitments/{commitment.pk}/chased/", {"channel": "email"}, format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def rates(**overrides: str) -> dict:
    return {"REST_FRAMEWORK": {**_rest_framework(), "DEFAULT_THROTTLE_RATES": {**_rates(), **overrides}}}


def _rest_framework() -> dict:
    from django.conf import settings

    return dict(settings.REST_FRAMEWORK)


def _rates() -> dict:
    return dict(api_settings.DEFAULT_THROTTLE_RATES)


def test_an_api_token_is_throttled_with_a_429_and_retry_after(agent, lead):
    # Given tokens may make three requests a minute
    with override_settings(**rates(token="3/min")):
        alex, lee = client_for(agent), client_for(lead)

        # When alex's integration makes a fourth
        answers = [alex.get(f"{API}/teams/").status_code for _ in range(4)]
        held = alex.get(f"{API}/commitments/")

        # Then it is held back, told when to come back, and another token is not
        assert answers == [200, 200, 200, 429]
        assert held.status_code == 429
        assert int(held["Retry-After"]) > 0
        assert "throttled" in held.json()["detail"]
        assert lee.get(f"{API}/teams/").status_code == 200


def test_a_user_is_throttled_across_token_and_browser_session(client, agent):
    with override_settings(**rates(user="2/min")):
        api = client_for(agent)
        client.force_login(agent)

        assert api.get(f"{API}/teams/").status_code == 200
        assert client.get(f"{API}/teams/").status_code == 200
        assert client.get(f"{API}/teams/").status_code == 429
        assert api.get(f"{API}/teams/").status_code == 429


def test_password_guessing_on_the_token_call_is_throttled(agent):
    with override_settings(**rates(anon="2/min")):
        guesses = [
            APIClient().post(f"{API}/auth/token/", {"username": "alex", "password": f"guess{n}"}).status_code
            for n in range(3)
        ]

    assert guesses == [400, 400, 429]


def test_the_api_stays_up_when_the_rate_limit_counters_cannot_be_reached(agent):
    # Given the cache that holds the rate limit counters is down (Redis restarting)
    location = f"redis://127.0.0.1:{live.free_port()}/0"
    unreachable = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location}}
    client = client_for(agent)
    with override_settings(CACHES=unreachable):
        # When an integration logs a promise and reads the list
        created = client.post(
            f"{API}/commitments/",
            {
                "summary": "Refund the double charge",
                "due_at": "2030-01-01T12:00:00Z",
                "customer": {"name": "Dana", "email": "dana@example.com", "preferred_channel": "email"},
            },
            format="json",
        )
        listed = client.get(f"{API}/commitments/")

    # Then both answer as usual
    assert created.status_code == 201, created.content
    assert listed.status_code == 200
    assert [row["summary"] for row in listed.json()["results"]] == ["Refund the double charge"]
