"""The limits every customer route passes (status links, inbound texts): by client address and by link.

Counted in the cache (Redis); when the cache is down the routes stay up.
"""

import logging
from collections.abc import Callable, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited

from commitments.languages import catalog_for

logger = logging.getLogger(__name__)


def throttle_rate(scope: str) -> str:
    """A rate from the API's throttle settings (THROTTLE_CUSTOMER, THROTTLE_INBOUND), read at request time."""
    api_settings: dict[str, dict[str, str]] = settings.REST_FRAMEWORK  # type: ignore[assignment]
    return api_settings["DEFAULT_THROTTLE_RATES"][scope]


def customer_rate(group: str, request: HttpRequest) -> str:
    """THROTTLE_CUSTOMER (``300/min`` by default)."""
    return throttle_rate("customer")


RateKey = str | Callable[[str, HttpRequest], str]
Rate = Callable[[str, HttpRequest], str]


def over_limit(request: HttpRequest, *, checks: Sequence[tuple[str, RateKey]], rate: Rate) -> bool:
    """Count this request against each (group, key) limit; True once any is spent.

    When the cache is down the page stays up: a customer must never be locked out of their own
    promise because Redis is restarting.
    """
    try:
        spent = [is_ratelimited(request, group=group, key=key, rate=rate, increment=True) for group, key in checks]
    except Exception:
        logger.warning("Rate limits unavailable; letting the request through.", exc_info=True)
        return False
    return any(spent)


def too_many_requests() -> HttpResponse:
    # Counted before the link is read, so in the site's language: we do not know whose link it is yet.
    with translation.override(catalog_for(settings.FOLLOWTHROUGH_LANGUAGE)):
        words = _("Too many requests. Please wait a minute and try again.")
    response = HttpResponse(
        f"{words}\n",
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = "60"
    return response
