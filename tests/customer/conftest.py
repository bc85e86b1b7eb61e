import html
from urllib.parse import urlsplit

import pytest
from django.test import Client

from commitments.models import Commitment
from commitments.status_links import token_for, unsubscribe_url
from tests.factories import make_commitment


def link(commitment: Commitment, page: str = "") -> str:
    """The path of the customer's page, as in the link we send them."""
    commitment.refresh_from_db()
    if page == "unsubscribe":  # The unsubscribe link has a token of its own.
        return urlsplit(unsubscribe_url(commitment)).path
    suffix = f"{page}/" if page else ""
    return f"/s/{token_for(commitment.status_token_nonce)}/{suffix}"


def page_text(response) -> str:
    """The page as the customer reads it (entities decoded)."""
    return html.unescape(response.content.decode())


@pytest.fixture
def commitment(agent, lead):
    """Alex's promise to Dana (New York), with Lee as the team lead."""
    return make_commitment(actor=agent)


@pytest.fixture
def csrf_client() -> Client:
    """A browser-like client: POSTs need the CSRF token from the page, as in a real browser."""
    return Client(enforce_csrf_checks=True)
