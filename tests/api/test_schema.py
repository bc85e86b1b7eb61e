"""The OpenAPI schema: valid, complete, and true to what the API really answers."""

import json
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from commitments import services
from tests.api.conftest import API, in_future, new_commitment_body
from tests.api.openapi import Schema

pytestmark = pytest.mark.django_db

CONTRACT_CALLS = {
    ("post", "/api/v1/auth/token/"),
    ("post", "/api/v1/commitments/"),
    ("get", "/api/v1/commitments/"),
    ("get", "/api/v1/commitments/{id}/"),
    ("patch", "/api/v1/commitments/{id}/"),
    ("post", "/api/v1/commitments/{id}/updates/"),
    ("post", "/api/v1/commitments/{id}/reschedule/"),
    ("post", "/api/v1/commitments/{id}/handoff/"),
    ("post", "/api/v1/commitments/{id}/fulfil/"),
    ("post", "/api/v1/commitments/{id}/chased/"),
    ("post", "/api/v1/commitments/{id}/wait/"),
    ("post", "/api/v1/commitments/{id}/resume/"),
    ("post", "/api/v1/commitments/{id}/cancel/"),
    ("get", "/api/v1/commitments/{id}/timeline/"),
    ("get", "/api/v1/notifications/"),
    ("get", "/api/v1/teams/"),
    ("post", "/api/v1/coach/"),
    ("get", "/api/v1/dashboard/"),
}
# In the contract, built with their own pages: none left.
COMING_LATER: set[tuple[str, str]] = set()
COMMITMENT_FIELDS = {
    "id",
    "status",
    "customer",
    "summary",
    "details",
    "owner",
    "assignee",
    "team",
    "due_at",
    "update_interval",
    "next_update_at",
    "last_update_at",
    "fulfilled_at",
    "is_overdue",
    "status_url",
    "created_at",
}
NOTIFICATION_FIELDS = {
    "id",
    "commitment",
    "kind",
    "channel",
    "recipient",
    "audience",
    "status",
    "scheduled_for",
    "sent_at",
    "attempts",
    "last_error",
    "idempotency_key",
}


@pytest.fixture
def document(client) -> dict:
    response = client.get(f"{API}/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def schema(document) -> Schema:
    return Schema(document)


def test_the_schema_is_generated_without_a_warning_and_validates_as_openapi_3(tmp_path, document):
    # drf-spectacular's own check: any warning (an unresolvable field, a guessed type) fails it.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    validate_schema(document)
    assert document["openapi"].startswith("3.")


def test_every_call_of_the_contract_is_in_the_schema(document):
    offered = {
        (method, re.sub(r"\{[^}]+\}", "{id}", path))
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"get", "post", "patch", "put", "delete"}
    }

    assert offered >= CONTRACT_CALLS
    assert offered - CONTRACT_CALLS <= COMING_LATER, "calls beyond the contract should be added to it"


def test_every_operation_documents_its_errors(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if (method, re.sub(r"\{[^}]+\}", "{id}", path)) not in CONTRACT_CALLS:
                continue
            codes = set(operation["responses"])
            assert "429" in codes, (method, path)
            if path != "/api/v1/auth/token/":
                assert "401" in codes, (method, path)
            if method in {"post", "patch"}:
                assert "400" in codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method in {"post", "patch"} and "{" in path:
                assert {"403", "409"} <= codes, (method, path)
            if method == "post" and path != "/api/v1/auth/token/":
                headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
                assert "Idempotency-Key" in headers, (method, path)
                assert "422" in codes, (method, path)
            assert operation.get("summary"), (method, path)


def test_the_contracts_fields_are_documented(document):
    components = document["components"]["schemas"]

    assert set(components["Commitment"]["required"]) >= COMMITMENT_FIELDS
    assert {"id", "name", "email", "phone", "preferred_channel", "timezone"} <= set(components["Customer"]["required"])
    assert set(components["Notification"]["required"]) >= NOTIFICATION_FIELDS
    assert set(components["Team"]["properties"]) == {"id", "name", "timezone", "members"}
    assert set(components["TeamMember"]["properties"]) == {"id", "username", "name", "role"}
    assert {"id", "kind", "actor", "message", "data", "created_at"} <= set(components["TimelineEvent"]["properties"])
    assert set(components["PaginatedCommitmentList"]["properties"]) == {"count", "next", "previous", "results"}
    assert components["CommitmentStatusEnum"]["enum"] == [
        "open",
        "waiting",
        "fulfilled",
        "confirmed",
        "reopened",
        "missed",
        "cancelled",
    ]
    for name, component in components.items():
        if name in COMPONENTS_OF_OTHER_CALLS:
            continue
        for field, described in component.get("properties", {}).items():
            assert described.get("description") or "allOf" in described, f"{name}.{field} has no description"


COMPONENTS_OF_OTHER_CALLS: set[str] = set()  # the dashboard's and the coach's, once they come


def test_every_answer_the_api_gives_matches_the_schema(schema, agent, colleague, outsider, api, api_as):
    """Walk through every call, its success and its errors, and hold each answer to the schema."""
    anonymous = APIClient()
    sam, morgan = api_as(colleague), api_as(outsider)

    # Token
    schema.check(anonymous.post(f"{API}/auth/token/", {"username": "alex", "password": "nope"}, format="json"))
    from tests.factories import PASSWORD

    schema.check(anonymous.post(f"{API}/auth/token/", {"username": "alex", "password": PASSWORD}, format="json"))

    # Create: success, a bad body, a malformed key, a reused key, no token
    created = api.post(f"{API}/commitments/", new_commitment_body(), format="json", headers={"Idempotency-Key": "k1"})
    schema.check(created)
    commitment_id = created.json()["id"]
    base = f"{API}/commitments/{commitment_id}"
    schema.check(
        api.post(f"{API}/commitments/", new_commitment_body(), format="json", headers={"Idempotency-Key": "k1"})
    )
    schema.check(
        api.post(
            f"{API}/commitments/",
            {**new_commitment_body(), "summary": "x"},
            format="json",
            headers={"Idempotency-Key": "k1"},
        )
    )
    schema.check(api.post(f"{API}/commitments/", {"customer": {"phone": "1"}}, format="json"))
    schema.check(api.post(f"{API}/commitments/", b"{oops", content_type="application/json"))
    schema.check(anonymous.post(f"{API}/commitments/", {}, format="json"))

    # Read and list, with filters, a bad filter, a page too far
    schema.check(api.get(f"{base}/"))
    schema.check(api.get(f"{API}/commitments/999999/"))
    schema.check(morgan.get(f"{base}/"))
    schema.check(api.get(f"{API}/commitments/", {"status": "open", "q": "estimate", "overdue": "false"}))
    schema.check(api.get(f"{API}/commitments/", {"status": "lost"}))
    schema.check(api.get(f"{API}/commitments/", {"page": 9}))
    schema.check(anonymous.get(f"{API}/commitments/"))

    # Edit: success, bad input, not allowed
    schema.check(api.patch(f"{base}/", {"details": "Revised.", "update_interval": "8h"}, format="json"))
    schema.check(api.patch(f"{base}/", {"update_interval": "never"}, format="json"))
    schema.check(sam.patch(f"{base}/", {"summary": "Mine now"}, format="json"))

    # Every move, then the moves a fulfilled commitment refuses
    schema.check(api.post(f"{base}/updates/", {"message": "On it."}, format="json"))
    schema.check(api.post(f"{base}/reschedule/", {"due_at": in_future(days=3), "reason": "Late parts."}, format="json"))
    schema.check(api.post(f"{base}/handoff/", {"assignee": colleague.pk, "note": "Over to Sam."}, format="json"))
    schema.check(api.post(f"{base}/handoff/", {"assignee": outsider.pk}, format="json"))
    schema.check(api.post(f"{base}/chased/", {"channel": "sms"}, format="json"))
    schema.check(api.post(f"{base}/wait/", {"request": "A photo."}, format="json"))
    schema.check(api.post(f"{base}/resume/", {"note": "Got it."}, format="json"))
    schema.check(api.post(f"{base}/resume/", {}, format="json"))
    schema.check(api.post(f"{base}/fulfil/", {"resolution": "Sent."}, format="json"))
    schema.check(api.post(f"{base}/cancel/", {"reason": "Too late."}, format="json"))
    schema.check(morgan.post(f"{base}/cancel/", {}, format="json"))

    # The coach: advice with a commitment, without one, and bad input
    draft = {"text": "Maybe. Next update in 3 days.", "commitment": commitment_id}
    schema.check(api.post(f"{API}/coach/", draft, format="json"))
    schema.check(api.post(f"{API}/coach/", {"text": "Done 👍", "channel": "sms", "language": "es"}, format="json"))
    schema.check(api.post(f"{API}/coach/", {"text": 3, "commitment": 999999}, format="json"))
    schema.check(anonymous.post(f"{API}/coach/", {"text": "Hi"}, format="json"))

    # Timeline, notifications, teams
    schema.check(api.get(f"{base}/timeline/"))
    schema.check(api.get(f"{API}/notifications/", {"commitment": commitment_id}))
    schema.check(api.get(f"{API}/notifications/", {"commitment": "x"}))
    schema.check(api.get(f"{API}/teams/"))

    # A commitment with every optional moment filled in, and the cancel of a live one
    other = services.create_commitment(
        actor=agent,
        customer=services.CustomerDetails(name="Eli", email="eli@example.com"),
        summary="Another",
        due_at=timezone.now() + timedelta(days=1),
        target_at=timezone.now() + timedelta(hours=20),
    )
    schema.check(api.get(f"{API}/commitments/{other.pk}/"))
    schema.check(sam.post(f"{API}/commitments/{other.pk}/cancel/", {}, format="json"))
    schema.check(api.post(f"{API}/commitments/{other.pk}/cancel/", {}, format="json"))


def test_the_docs_page_works_offline_from_our_own_static_files(client):
    response = client.get(f"{API}/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page)
    assert any("swagger-ui-bundle.js" in asset for asset in assets), assets
    for asset in assets:
        assert not asset.startswith(("http:", "https:", "//")), f"{asset} would need the internet"
        assert asset.startswith("/static/") or asset.startswith("/api/"), asset
        assert client.get(asset).status_code == 200, asset
    # Swagger UI's start-up script is a file of its own now (no inline script): the schema's address is there
    script = "".join(client.get(asset).content.decode() for asset in assets if asset.startswith("/api/"))
    assert "/api/v1/schema/" in page + script


def test_the_schema_check_would_catch_an_undocumented_field_or_status(schema, api):
    response = api.get(f"{API}/teams/")
    response.content = json.dumps({**response.json(), "surprise": 1}).encode()
    del response._json  # the test client caches the parsed body

    with pytest.raises(AssertionError, match="surprise"):
        schema.check(response)
    response.status_code = 418
    with pytest.raises(AssertionError, match="418"):
        schema.check(response)
