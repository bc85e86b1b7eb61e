"""Start-up checks of the delivery settings (``manage.py check``, and every worker as it starts).

A send that could outlast its lease lets another worker send the same message again. Each send
is cut at a deadline inside the lease; these settings must leave it room to succeed: the lease
at least twice the longest single send, as delivery hands back a row whose lease is half spent.
"""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

DELIVERY = "delivery"


@register(Tags.compatibility, DELIVERY)
def lease_outlasts_sends(**kwargs: Any) -> list[CheckMessage]:
    lease = settings.FOLLOWTHROUGH_DELIVERY_LEASE.total_seconds()
    longest = max(settings.EMAIL_TIMEOUT, settings.SMS_TIMEOUT)
    if lease >= 2 * longest:
        return []
    return [
        Error(
            f"FOLLOWTHROUGH_DELIVERY_LEASE ({lease:g}s) is shorter than twice the longest send timeout "
            f"(EMAIL_TIMEOUT {settings.EMAIL_TIMEOUT}s, SMS_TIMEOUT {settings.SMS_TIMEOUT}s): a send could "
            "outlast its lease and another worker send the same message again.",
            hint=f"Set FOLLOWTHROUGH_DELIVERY_LEASE to {2 * longest}s or more, or lower the timeouts.",
            id="followthrough.E001",
        )
    ]
