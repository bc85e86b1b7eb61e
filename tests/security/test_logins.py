"""Guessing passwords: 5 failures for one username from one address lock that pair for 15 minutes.

On the login page, the admin's login and the API's token call, whatever X-Forwarded-For the
client makes up. Only proxies the operator declares (TRUSTED_PROXY_COUNT) are believed.
"""

import html
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from followthrough.client_address import client_address
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"


def forged(n: int) -> dict[str, Any]:
    """A new made-up X-Forwarded-For on every try, as a guesser would send."""
    return {"HTTP_X_FORWARDED_FOR": f"198.51.100.{n}", "REMOTE_ADDR": "203.0.113.7"}


@pytest.fixture(autouse=True)
def generous_throttle(settings):
    # The API's own per-address throttle must not be what stops the guesses here.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "100000/min"},
    }


def test_the_token_call_locks_a_username_after_5_failures_whatever_the_forwarded_header(agent):
    api = APIClient()
    answers = [
        api.post(TOKEN, {"username": "alex", "password": f"guess{n}"}, format="json", **forged(n)).status_code
        for n in range(5)
    ]
    # (The fifth failure is refused already: it is the one that locks.)
    assert answers == [400, 400, 400, 400, 429]
    # The right password is refused now, from that address, with 429
    locked = api.post(TOKEN, {"username": "alex", "password": PASSWORD}, format="json", **forged(99))
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.json()["detail"]
    assert int(locked["Retry-After"]) == 15 * 60
    # Another address is not locked, nor another username from this address
    assert (
        api.post(
            TOKEN, {"username": "alex", "password": PASSWORD}, format="json", REMOTE_ADDR="203.0.113.8"
        ).status_code
        == 200
    )
    # and 15 minutes later the pair may try again
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        again = api.post(TOKEN, {"username": "alex", "password": PASSWORD}, format="json", **forged(100))
    assert again.status_code == 200


def test_the_login_page_locks_and_says_so_plainly(agent):
    browser = Client()
    for n in range(4):
        page = browser.post("/accounts/login/", {"username": "alex", "password": f"guess{n}"}, **forged(n))
        assert page.status_code == 200 and "didn't match" in html.unescape(page.content.decode())
    assert browser.post("/accounts/login/", {"username": "alex", "password": "guess5"}, **forged(5)).status_code == 429
    locked = browser.post("/accounts/login/", {"username": "alex", "password": PASSWORD}, **forged(42))
    assert locked.status_code == 429
    text = html.unescape(locked.content.decode())
    assert "Signing in is paused" in text and "15 minutes" in text
    assert "_auth_user_id" not in browser.session


def test_the_admin_login_is_locked_too(agent):
    agent.is_staff = True
    agent.save()
    browser = Client()
    for n in range(5):
        browser.post("/admin/login/", {"username": "alex", "password": f"guess{n}"}, **forged(n))
    locked = browser.post("/admin/login/?next=/admin/", {"username": "alex", "password": PASSWORD}, **forged(7))
    assert locked.status_code == 429
    assert "Signing in is paused" in html.unescape(locked.content.decode())


def test_failures_on_one_path_count_on_the_others(agent):
    for n in range(5):
        Client().post("/accounts/login/", {"username": "alex", "password": f"guess{n}"}, REMOTE_ADDR="203.0.113.9")
    assert (
        APIClient()
        .post(TOKEN, {"username": "alex", "password": PASSWORD}, format="json", REMOTE_ADDR="203.0.113.9")
        .status_code
        == 429
    )


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "10.0.0.2"),  # no proxy declared: the peer, whatever the header says
        (1, "198.51.100.1", "198.51.100.1"),  # one proxy: the address it saw
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the client's own entry is ignored
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.9", "198.51.100.1"),
        (2, "198.51.100.1", "10.0.0.2"),  # fewer hops than declared: not through our proxies
    ],
)
def test_the_client_address_rule(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_behind_a_declared_proxy_each_client_has_its_own_lock(agent, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    api = APIClient()
    for _ in range(5):
        api.post(
            TOKEN,
            {"username": "alex", "password": "x"},
            format="json",
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR="198.51.100.1",
        )
    behind_proxy: dict[str, Any] = {"REMOTE_ADDR": "10.0.0.2"}
    assert (
        api.post(
            TOKEN,
            {"username": "alex", "password": PASSWORD},
            format="json",
            HTTP_X_FORWARDED_FOR="198.51.100.1",
            **behind_proxy,
        ).status_code
        == 429
    )
    assert (
        api.post(
            TOKEN,
            {"username": "alex", "password": PASSWORD},
            format="json",
            HTTP_X_FORWARDED_FOR="198.51.100.2",
            **behind_proxy,
        ).status_code
        == 200
    )


def test_the_api_throttle_counts_the_peer_not_a_forged_header(agent, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "3/min"},
    }
    answers = [
        APIClient().post(TOKEN, {"username": f"nobody{n}", "password": "x"}, format="json", **forged(n)).status_code
        for n in range(4)
    ]
    assert answers == [400, 400, 400, 429]
