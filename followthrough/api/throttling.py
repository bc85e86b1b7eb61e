"""Rate limits for the API: per client address before login, per user and per API token after.

DRF's own classes copy the rates once at import; these read them on each request, so an operator's
(or a test's) change to ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` applies at once.
The counters live in the default cache, shared through Redis by every web process. When the cache
cannot be reached the API stays up and lets requests through, as the customer's pages do: Redis
restarting must not turn every integration's calls into errors.

A request's counters (the user's and the token's) are read with one round trip before its first
check and written with one after its last, not read and written by each limit in turn: four round
trips to Redis were a tenth of the time of logging a promise.
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
    num_requests: int
    duration: int

    def allow_request(self, request: "Request", view: "APIView") -> bool:
        try:
            counters = _Counters.of(request, view)
            try:
                return self._allow(request, view, counters)
            finally:
                counters.checked(request)
        except Exception:
            logger.warning("API rate limits unavailable; letting the request through.", exc_info=True)
            return True

    def _allow(self, request: "Request", view: "APIView", counters: "_Counters") -> bool:
        # SimpleRateThrottle.allow_request, with the history read and written through ``counters``.
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.history = list(counters.histories.get(self.key, []))
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        self.history.insert(0, self.now)
        counters.record(self.key, self.history, self.duration)
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


class _Counters:
    """One request's rate limit histories: read at once before its first check, written at once
    after its last (DRF asks every throttle of the view, in turn, once a request)."""

    ATTRIBUTE = "_followthrough_rate_counters"

    def __init__(self, request: "Request", view: "APIView") -> None:
        ours = [throttle for throttle in view.get_throttles() if isinstance(throttle, CurrentRatesMixin)]
        keys = [throttle.get_cache_key(request, view) for throttle in ours if throttle.rate is not None]
        self.left = len(ours)
        named = [key for key in keys if key]
        self.histories: dict[str, list[float]] = SimpleRateThrottle.cache.get_many(named) if named else {}
        self.written: dict[str, list[float]] = {}
        self.timeout = 0

    @classmethod
    def of(cls, request: "Request", view: "APIView") -> "_Counters":
        counters = getattr(request, cls.ATTRIBUTE, None)
        if counters is None:
            counters = cls(request, view)
            setattr(request, cls.ATTRIBUTE, counters)
        return counters

    def record(self, key: str, history: list[float], duration: int) -> None:
        self.written[key] = history
        self.timeout = max(self.timeout, duration)  # A history older than its own limit's window is dropped when read.

    def checked(self, request: "Request") -> None:
        self.left -= 1
        if self.left > 0:
            return
        delattr(request, self.ATTRIBUTE)  # The next round (another call to check_throttles) reads afresh.
        if self.written:
            SimpleRateThrottle.cache.set_many(self.written, self.timeout)
