"""Rate limits for the API: per client address before login, per user and per API token after.

DRF's own classes copy the rates once at import; these read them on each request, so an operator's
(or a test's) change to ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` applies at once.
The counters live in the default cache, shared through Redis by every web process.
"""

import hashlib
from typing import TYPE_CHECKING

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

if TYPE_CHECKING:  # rest_framework.views imports this module while it loads its settings.
    from rest_framework.request import Request
    from rest_framework.views import APIView


class CurrentRatesMixin:
    scope: str | None

    def get_rate(self) -> str | None:
        rates = api_settings.DEFAULT_THROTTLE_RATES
        # A token without its own rate is held to the user's.
        rate = rates.get(self.scope or "") or rates.get("user")
        return str(rate) if rate else None


class AnonymousRateThrottle(CurrentRatesMixin, AnonRateThrottle):
    """Requests without credentials (the token call among them), counted per client address."""


class PerUserRateThrottle(CurrentRatesMixin, UserRateThrottle):
    """Every request of a signed-in user, whether by token or by browser session."""


class PerTokenRateThrottle(CurrentRatesMixin, SimpleRateThrottle):
    """Every request made with one API token, so a leaked or runaway integration is held back."""

    scope = "token"

    def get_cache_key(self, request: "Request", view: "APIView") -> str | None:
        token = getattr(request.auth, "key", None)
        if not token:
            return None  # Session requests are held by the per-user limit.
        # Keep the token itself out of the cache: a digest identifies it just as well.
        ident = hashlib.sha256(str(token).encode()).hexdigest()[:40]
        return self.cache_format % {"scope": self.scope, "ident": ident}
