"""The customer's private status link.

The token is an HMAC of a per-commitment random nonce (256 bits) under the secret key, so it can
be put in every message without being stored; the database keeps only its SHA-256 for look-up.
Replacing the nonce revokes the old link.
"""

import base64
import hashlib
import hmac
import secrets

from django.conf import settings
from django.urls import reverse

from commitments.models import Commitment


def new_nonce() -> str:
    return secrets.token_hex(32)


def token_for(nonce: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"status-link:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_status_link(commitment: Commitment) -> None:
    """Give the commitment a fresh link (on creation, or to revoke the old one). The caller saves."""
    commitment.status_token_nonce = new_nonce()
    commitment.status_token_hash = hash_token(token_for(commitment.status_token_nonce))


def status_url(commitment: Commitment) -> str:
    return customer_url(commitment, "status")


def unsubscribe_url(commitment: Commitment) -> str:
    """For the ``List-Unsubscribe`` header; a POST of ``List-Unsubscribe=One-Click`` to it opts out (RFC 8058)."""
    return customer_url(commitment, "unsubscribe")


def customer_url(commitment: Commitment, page: str) -> str:
    """The absolute link to one of the customer's pages: ``status``, ``confirm``, ``reopen``, ``answer``,
    ``preferences`` or ``unsubscribe`` (names in commitments/customer_urls.py)."""
    path = reverse(f"customer:{page}", args=[token_for(commitment.status_token_nonce)])
    return f"{settings.SITE_URL}{path}"


def commitment_for_token(token: str) -> Commitment | None:
    """The commitment this link belongs to, or ``None`` for a wrong, tampered or revoked one."""
    if not token or len(token) > 100:
        return None
    return (
        Commitment.objects.select_related("customer", "owner", "team")
        .filter(status_token_hash=hash_token(token))
        .first()
    )
