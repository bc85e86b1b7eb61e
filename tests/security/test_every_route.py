"""Every route, as a stranger, as another team's agent and as the team's own agent.

Generated from the URL configuration (tests/security/routes.py): nobody reads or changes what is
not theirs. A stranger is sent to the login page (or gets 401, 403, 404); team B's agent may use
every page and call but never sees a word of team A's promise or customer, and nothing of team
A's changes whatever they post; team A's own agent opens every page of theirs.
"""

import json
from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.test import Client
from django.utils import timezone

from commitments.models import Commitment, ContactChange, Customer, TimelineEvent
from notifications.models import Notification
from tests.security.conftest import A_SECRETS, TeamA
from tests.security.routes import Route, addresses, all_routes

pytestmark = pytest.mark.django_db

# Routes anyone may open: logging in and out, the API's description and token call. Customer
# links and webhooks carry their own key (a token, a signature) and are tried below with wrong ones.
PUBLIC = {
    *("login", "logout", "api-schema", "api-docs", "api-token", "admin:login", "admin:logout", "admin:jsi18n"),
    *("healthz", "readyz"),  # An orchestrator's probes: they say whether the app is up, nothing more.
}


def no_server_error(route: Route, response) -> bool:
    # Readiness answers 503 by design while beat has not ticked (as in this test): "not ready yet".
    return response.status_code < 500 or (route.name == "readyz" and response.status_code == 503)


# Pages only a team's lead may open (team A's own agent is refused them).
LEAD_ONLY = {"commitments:glossary", "commitments:templates", "commitments:template", "commitments:template_preview"}

# Everything a form or a call might take, so that only the permission check can stop a change.
FORM = {
    "message": "Hijacked update",
    "resolution": "Done by someone else",
    "reason": "Because I can",
    "note": "Taken over",
    "request": "Send us your password",
    "channel": "email",
    "assignee": "",
    "summary": "Hijacked",
    "details": "Hijacked",
    "what_is_wrong": "Hijacked",
    "answer": "Hijacked",
    "name": "Hijacked",
    "email": "evil@example.com",
    "phone": "+15555550166",
    "preferred_channel": "sms",
    "texts_allowed": "on",
    "timezone": "UTC",
    "notes": "Hijacked",
    "List-Unsubscribe": "One-Click",
}


def _form(outsider_id: int) -> dict:
    due = (timezone.now() + timedelta(days=5)).isoformat()
    return {**FORM, "assignee": str(outsider_id), "due_at": due, "new_due_at": due}


def snapshot(team_a: TeamA) -> tuple:
    commitment = team_a.commitment
    return (
        Commitment.objects.filter(pk=commitment.pk).values().get(),
        Customer.objects.filter(pk=team_a.customer.pk).values().get(),
        TimelineEvent.objects.filter(commitment=commitment).count(),
        Notification.objects.filter(commitment=commitment).values_list("pk", "status", "completed_at").count(),
        list(ContactChange.objects.filter(customer=team_a.customer).values_list("value", "confirmed_at")),
    )


def request(client: Client, method: str, path: str, body: dict, route: Route):
    if method == "get":
        return client.get(path)
    if route.is_api:
        return client.post(path, json.dumps(body), content_type="application/json")
    return client.post(path, body)


def shown(response) -> str:
    return "" if getattr(response, "streaming", False) else response.content.decode(errors="replace")


@pytest.fixture(autouse=True)
def generous_limits(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            "anon": "100000/min",
            "user": "100000/min",
            "token": "100000/min",
            "customer": "100000/min",
            "inbound": "100000/min",
        },
    }


def test_the_walk_covers_the_whole_url_configuration(team_a):
    routes = all_routes()
    names = {route.name for route in routes}
    # The staff pages, the API, the customer's links, the webhooks and the admin are all there
    assert {"commitments:detail", "api-commitment", "customer:status", "customer:unsubscribe"} <= names
    assert {"hooks:twilio_sms", "admin:commitments_customer_change", "commitments:replace_link"} <= names
    # and every one of them has concrete addresses aimed at team A
    for route in routes:
        assert addresses(route, team_a), route


def test_a_stranger_gets_nothing_from_any_route(team_a, outsider):
    before = snapshot(team_a)
    stranger = Client()
    tampered = team_a.status_token[:-2] + ("AA" if not team_a.status_token.endswith("AA") else "BB")
    for route in all_routes():
        # A stranger does not hold the customer's link: they try a made-up one.
        token = tampered if route.is_customer_link else None
        for path in addresses(route, team_a, token=token):
            for method in ("get", "post"):
                response = request(stranger, method, path, _form(outsider.pk), route)
                where = f"{method.upper()} {path} ({route.name or route.pattern})"
                assert no_server_error(route, response), where
                for secret in A_SECRETS:
                    assert secret not in shown(response), f"{where} shows {secret!r}"
                if route.name in PUBLIC:
                    continue
                if response.status_code in (301, 302):
                    assert "login" in response["Location"], where
                else:
                    assert response.status_code in (401, 403, 404, 405), where
    assert snapshot(team_a) == before


def test_another_teams_agent_neither_reads_nor_changes_team_a(team_a, outsider):
    before = snapshot(team_a)
    morgan = Client()
    for route in all_routes():
        if route.name in ("logout", "admin:logout"):
            continue  # Would only sign Morgan out.
        tampered = team_a.status_token[::-1]
        token = tampered if route.is_customer_link else None
        for path in addresses(route, team_a, token=token):
            for method in ("get", "post"):
                morgan.force_login(outsider)
                response = request(morgan, method, path, _form(outsider.pk), route)
                where = f"{method.upper()} {path} ({route.name or route.pattern}) as team B's agent"
                assert no_server_error(route, response), where
                for secret in A_SECRETS:
                    assert secret not in shown(response), f"{where} shows {secret!r}"
    # Also through the searches and filters that look across customers
    morgan.force_login(outsider)
    for path in (
        "/search/?q=Whitfield",
        "/search/?q=dana@example.com",
        "/search/?q=%2B12025550123",
        "/commitments/new/customer/?customer_email=dana@example.com",
        "/commitments/new/customer/?customer_phone=%2B12025550123",
        f"/commitments/new/?customer={team_a.customer.pk}",
        "/api/v1/commitments/?customer=dana@example.com",
        "/api/v1/commitments/?q=Whitfield",
        f"/api/v1/notifications/?commitment={team_a.commitment.pk}",
    ):
        response = morgan.get(path)
        assert response.status_code in (200, 400, 404), path
        # (What Morgan typed may be shown back to him: every other secret must not.)
        for secret in (secret for secret in A_SECRETS if secret not in unquote(path)):
            assert secret not in shown(response), f"{path} shows {secret!r} to team B"
        assert "Replace the boiler valve" not in shown(response), path
    # And nothing of team A's changed, whatever Morgan posted
    assert snapshot(team_a) == before


def test_the_teams_own_agent_opens_every_page_of_theirs(team_a, agent):
    alex = Client()
    alex.force_login(agent)
    opened = []
    for route in all_routes():
        if route.is_admin or route.name in ("logout",) or not route.name:
            continue
        for path in addresses(route, team_a):
            response = alex.get(path)
            where = f"GET {path} ({route.name})"
            assert no_server_error(route, response), where
            if response.status_code == 200:
                opened.append(route.name)
            else:
                # Actions are POST only; a customer page without its question goes back to the status page;
                # a team's wording is the lead's to edit; the Mailgun hooks are off until a key is set.
                expected = {302, 405}
                if route.name in LEAD_ONLY:
                    expected.add(403)
                if route.name.startswith("hooks:mailgun"):
                    expected.add(404)
                if route.name == "readyz":
                    expected.add(503)
                if route.name == "metrics":
                    expected.add(401)  # An operator's (staff or METRICS_TOKEN), not an agent's
                assert response.status_code in expected, where
    assert {"commitments:detail", "commitments:customer", "commitments:replace_link", "api-commitment"} <= set(opened)
    page = alex.get(f"/customers/{team_a.customer.pk}/").content.decode()
    assert "gate code 4417" in page  # The team's own private notes, on the team's own page
