"""Rate limits for the API: per client address before login, per user and per API token after.

DRF's own classes copy the rates once at import; these read them on each request, so an operator's
(or a test's) change to ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` applies at once.
The counters live in the default cache, shared through Redis by every web process. When the cache
cannot be reached the API stays up and lets requests through, as the customer's pages do: Redis
restarting must not turn every integration's calls into errors.
"""

import logging
from typing import TYPE_CHECKING

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from followthrough.client_address import client_address

if TYPE_CHECKING:  # rest_framework.views imports this module while it loads its settings.
    from rest_framework.request import Request
    from rest_framework.views import APIView


logger = logging.getLogger(__name__)


class CurrentRatesMixin(SimpleRateThrottle):
    scope: str | None

    def allow_request(self, request: "Request", view: "APIView") -> bool:
        try:
            return super().allow_request(request, view)
        except Exception:
            logger.warning("API rate limits unavailable; letting the request through.", exc_info=True)
            return True

    def get_ident(self, request: "Request") -> str:
        # The one rule for a client's address: a client's own X-Forwarded-For never picks its bucket.
        return client_address(request._request)

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
        digest = getattr(request.auth, "digest", None)
        if not digest:
            return None  # Session requests are held by the per-user limit.
        # Tokens are stored as digests: the digest identifies the token without being it.
        ident = str(digest)[:40]
        return self.cache_format % {"scope": self.scope, "ident": ident}
