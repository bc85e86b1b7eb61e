"""Which address a request comes from: the one rule every limiter uses (DRF throttles, django-ratelimit, axes).

``REMOTE_ADDR`` is the peer that opened the connection, and the only address a client cannot
choose. Behind proxies the operator declares (``TRUSTED_PROXY_COUNT``, default 0), each proxy
appends the address it was reached from to ``X-Forwarded-For``, so the client is the Nth entry
from the right; anything further left was written by the client and is never believed.
"""

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxies: int = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        # Fewer hops than the operator declared: the request did not come through them all.
        return remote
    return forwarded[-proxies]
