"""API tokens: issued for a username and password, stored as a SHA-256 digest, good until they expire.

DRF's own authtoken keeps the token itself in the database and forever; these keep only a digest
(a copy of the table gives nobody a way in) and live ``API_TOKEN_LIFETIME`` (30 days by default).
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts.models import ApiToken, User


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(*, user: User) -> str:
    """A new token for this user; the caller shows it once, it is never stored as such."""
    token = secrets.token_urlsafe(32)
    lifetime: timedelta = settings.API_TOKEN_LIFETIME
    ApiToken.objects.create(user=user, digest=digest_of(token), expires_at=timezone.now() + lifetime)
    return token


def prune_expired_api_tokens() -> int:
    """Delete tokens past their expiry; returns how many."""
    deleted, _ = ApiToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


class ApiTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <token>``, looked up by digest; an expired token is refused like a wrong one."""

    model = ApiToken

    def authenticate_credentials(self, key: str) -> tuple[User, ApiToken]:
        found = (
            ApiToken.objects.select_related("user").filter(digest=digest_of(key), expires_at__gt=timezone.now()).first()
        )
        if found is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not found.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return found.user, found
