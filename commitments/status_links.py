"""The customer's private links: the status link, and the unsubscribe link that is good for nothing else.

The status token is an HMAC of a per-commitment random nonce (256 bits) under the secret key, so
it can be put in every message without being stored; the database keeps only its SHA-256 for
look-up. The unsubscribe token is another HMAC of the same nonce under another purpose, prefixed
with the commitment's id: it cannot be turned into the status token, nor the status token into
it. Replacing the nonce revokes both.
"""

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, reverse

from commitments.models import Commitment


def new_nonce() -> str:
    return secrets.token_hex(32)


def token_for(nonce: str, purpose: str = "status-link") -> str:
    # hmac.digest: the same HMAC-SHA256 in one call, without an HMAC object (a sweep writes thousands).
    digest = hmac.digest(settings.SECRET_KEY.encode(), f"{purpose}:{nonce}".encode(), "sha256")
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def unsubscribe_token(commitment: Commitment) -> str:
    return f"{commitment.pk}-{token_for(commitment.status_token_nonce, 'unsubscribe')}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_status_link(commitment: Commitment) -> None:
    """Give the commitment a fresh link (on creation, or to revoke the old one). The caller saves."""
    commitment.status_token_nonce = new_nonce()
    commitment.status_token_hash = hash_token(token_for(commitment.status_token_nonce))


def status_url(commitment: Commitment) -> str:
    """The customer's status link (``commitment.status_url``), without resolving the URL each time:
    the sweeps write it into thousands of messages a batch."""
    prefix, suffix = _path_around_token("customer:status", get_script_prefix())
    return f"{settings.SITE_URL}{prefix}{token_for(commitment.status_token_nonce)}{suffix}"


@lru_cache(maxsize=8)
def _path_around_token(name: str, script_prefix: str) -> tuple[str, str]:
    placeholder = "TOKEN"
    prefix, _, suffix = reverse(name, args=[placeholder]).partition(placeholder)
    return prefix, suffix


def unsubscribe_url(commitment: Commitment) -> str:
    """For the ``List-Unsubscribe`` header; a POST of ``List-Unsubscribe=One-Click`` to it opts out (RFC 8058).

    Resolved once, as ``status_url`` is: delivery puts it on every customer email it sends.
    """
    prefix, suffix = _path_around_token("customer:unsubscribe", get_script_prefix())
    return f"{settings.SITE_URL}{prefix}{unsubscribe_token(commitment)}{suffix}"


def customer_url(commitment: Commitment, page: str) -> str:
    """The absolute link to one of the customer's pages: ``status``, ``confirm``, ``reopen``, ``answer``
    or ``preferences`` (names in commitments/customer/urls.py)."""
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


def commitment_for_unsubscribe_token(token: str) -> Commitment | None:
    """The commitment of an unsubscribe link, or ``None`` (a status token, a tampered or revoked one)."""
    pk, _, signature = (token or "").partition("-")
    if not pk.isdigit() or len(pk) > 18 or not signature or len(signature) > 100:
        return None
    commitment = Commitment.objects.select_related("customer", "owner", "team").filter(pk=int(pk)).first()
    if commitment is None:
        return None
    expected = token_for(commitment.status_token_nonce, "unsubscribe")
    return commitment if hmac.compare_digest(expected, signature) else None
