"""API tokens: issued for a username and password, stored as a SHA-256 digest, good until they expire.

DRF's own authtoken keeps the token itself in the database and forever; these keep only a digest
(a copy of the table gives nobody a way in) and live ``API_TOKEN_LIFETIME`` (30 days by default).
"""

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import connection
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
        found = live_token(digest_of(key), now=timezone.now())
        if found is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not found.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return found.user, found


def live_token(digest: str, *, now: datetime) -> ApiToken | None:
    """The unexpired token with this digest, with its user, in one query.

    Every API call asks this first. On PostgreSQL the statement is written once per process and
    the two rows made into a token and its user directly: built by the ORM on each call it was a
    tenth of a list call's Python. (SQLite, the first run's database, needs the ORM's converters.)
    """
    if connection.vendor != "postgresql":
        return ApiToken.objects.select_related("user").filter(digest=digest, expires_at__gt=now).first()
    token_fields, user_fields, sql = _live_token_statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, [digest, now])
        row = cursor.fetchone()
    if row is None:
        return None
    token = ApiToken.from_db(connection.alias, token_fields, row[: len(token_fields)])
    token.user = User.from_db(connection.alias, user_fields, row[len(token_fields) :])
    return token


@cache
def _live_token_statement() -> tuple[list[str], list[str], str]:
    """``ApiToken.objects.select_related("user").filter(digest=..., expires_at__gt=...).first()``, as SQL."""
    quote = connection.ops.quote_name
    token_columns = [field.column for field in ApiToken._meta.concrete_fields]
    user_columns = [field.column for field in User._meta.concrete_fields]
    selected = [f"t.{quote(column)}" for column in token_columns] + [f"u.{quote(column)}" for column in user_columns]
    sql = (
        f"SELECT {', '.join(selected)} FROM {quote(ApiToken._meta.db_table)} t "  # noqa: S608 - our own names
        f"JOIN {quote(User._meta.db_table)} u ON u.{quote(User._meta.pk.column)} = t.{quote('user_id')} "
        f"WHERE t.{quote('digest')} = %s AND t.{quote('expires_at')} > %s ORDER BY t.{quote('id')} LIMIT 1"
    )
    return (
        [field.attname for field in ApiToken._meta.concrete_fields],
        [field.attname for field in User._meta.concrete_fields],
        sql,
    )
