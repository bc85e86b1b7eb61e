"""Customers' replies, by text or by email, as one thing: what the customer wrote to us.

A reply is a ``customer_reply`` event on the timeline (an inbound text that is not a keyword, an
email to the commitment's reply address, an answer from the status page). It is answered once
any message to the customer is made after it; until then it is "not yet answered", the list a
team's dashboard shows so that nobody leaves a customer's words without an answer.
"""

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import Team
from commitments.models import TimelineEvent
from notifications.models import Audience, DeliveryStatus, Notification

REPLY_CHANNELS = ("sms", "email", "status_page")


def replies(*, teams: Iterable[Team]) -> QuerySet[TimelineEvent]:
    """Every reply a customer wrote to these teams' commitments (texts that were keywords left out)."""
    return (
        TimelineEvent.objects.filter(kind=TimelineEvent.Kind.CUSTOMER_REPLY, commitment__team__in=list(teams))
        .exclude(data__has_key="keyword")
        .select_related("commitment", "commitment__customer", "commitment__owner")
    )


def replies_not_yet_answered(*, teams: Iterable[Team]) -> QuerySet[TimelineEvent]:
    """Replies with no message to the customer made after them, oldest first."""
    answered = Notification.objects.filter(
        commitment=OuterRef("commitment"),
        audience=Audience.CUSTOMER,
        created_at__gt=OuterRef("created_at"),
    ).exclude(status=DeliveryStatus.SUPPRESSED)
    return replies(teams=teams).filter(~Exists(answered)).order_by("created_at", "pk")
