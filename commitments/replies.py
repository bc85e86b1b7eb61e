"""Customers' replies, by text or by email, as one thing: what the customer wrote to us.

A reply is a ``customer_reply`` event on the timeline (an inbound text that is not a keyword, an
email to the commitment's reply address, an answer from the status page). It is answered once a
member of staff makes a message to the customer after it (an update, a new time, a question, the
resolution, a logged call); until then it is "not yet answered", the list a team's dashboard shows
so that nobody leaves a customer's words without an answer. An automatic status update ("nothing
new yet") answers nobody.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import Team
from commitments.models import Commitment, Status, TimelineEvent

REPLY_CHANNELS = ("sms", "email", "status_page")
# Replies older than this are no longer "this morning's" business.
REPLY_HORIZON = timedelta(days=30)
# What answers a customer's reply: a message to the customer that a member of staff made.
REPLY_ANSWER_KINDS = (
    TimelineEvent.Kind.UPDATE_SENT,
    TimelineEvent.Kind.RESCHEDULED,
    TimelineEvent.Kind.WAITING,
    TimelineEvent.Kind.RESUMED,
    TimelineEvent.Kind.FULFILLED,
    TimelineEvent.Kind.CANCELLED,
    TimelineEvent.Kind.CALL_LOGGED,
)


def replies(*, teams: Iterable[Team]) -> QuerySet[TimelineEvent]:
    """Every reply a customer wrote to these teams' commitments (texts that were keywords left out)."""
    return (
        TimelineEvent.objects.filter(kind=TimelineEvent.Kind.CUSTOMER_REPLY, commitment__team__in=list(teams))
        .exclude(data__has_key="keyword")
        .select_related("commitment", "commitment__customer", "commitment__owner")
    )


def unanswered_replies(*, commitments: QuerySet[Commitment], now: datetime | None = None) -> QuerySet[TimelineEvent]:
    """The one definition of "a reply not yet answered", over these commitments.

    Replies on cancelled or confirmed commitments are nobody's business now.
    """
    now = now or timezone.now()
    answered = TimelineEvent.objects.filter(
        commitment_id=OuterRef("commitment_id"),
        kind__in=REPLY_ANSWER_KINDS,
        actor__isnull=False,
        created_at__gt=OuterRef("created_at"),
    )
    return (
        TimelineEvent.objects.filter(
            kind=TimelineEvent.Kind.CUSTOMER_REPLY,
            created_at__gt=now - REPLY_HORIZON,
            commitment__in=commitments.exclude(status__in=[Status.CANCELLED, Status.CONFIRMED]).values("pk"),
        )
        .exclude(data__has_key="keyword")  # HELP and the like are answered by the machine.
        .filter(~Exists(answered))
    )


def replies_not_yet_answered(*, teams: Iterable[Team]) -> QuerySet[TimelineEvent]:
    """These teams' replies not yet answered, oldest first."""
    commitments = Commitment.objects.filter(team__in=list(teams))
    return (
        unanswered_replies(commitments=commitments)
        .select_related("commitment", "commitment__customer", "commitment__owner")
        .order_by("created_at", "pk")
    )
