"""The API as an integrator sees it: an APIClient that sends a staff member's token."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api_tokens import issue_api_token
from accounts.models import User
from commitments.models import Commitment
from tests.factories import make_commitment

API = "/api/v1"


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_api_token(user=user)}")
    return client


@pytest.fixture
def api_as() -> Callable[[User], APIClient]:
    return client_for


@pytest.fixture
def api(agent) -> APIClient:
    """The agent alex of Home Repairs, by token."""
    return client_for(agent)


@pytest.fixture
def commitment(agent) -> Commitment:
    """A promise alex made to Dana, due in two days."""
    return make_commitment(actor=agent)


def in_future(**delta: float) -> str:
    return (timezone.now() + timedelta(**delta)).isoformat()


def new_commitment_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer": {
            "name": "Dana Whitfield",
            "email": "Dana@Example.com",
            "phone": "(555) 555-0123",
            "preferred_channel": "sms",
            "timezone": "America/New_York",
        },
        "summary": "Send the repair estimate",
        "details": "Estimate for the water heater replacement.",
        "due_at": in_future(days=1),
        "update_interval": "4h",
        "external_ref": "TICKET-4411",
    }
    body.update(overrides)
    return body
