"""Reads for pages and the API. Every query that returns commitments starts from the caller's teams."""

from django.db.models import Q, QuerySet

from accounts.models import User
from commitments.models import ACTIVE_STATUSES, Commitment


def visible_commitments(*, user: User) -> QuerySet[Commitment]:
    """The commitments of the user's teams (all of them for a superuser)."""
    queryset = Commitment.objects.select_related("customer", "owner", "assignee", "team")
    if user.is_superuser:
        return queryset
    return queryset.filter(team__memberships__user=user)


def my_commitments(*, user: User) -> QuerySet[Commitment]:
    return (
        visible_commitments(user=user)
        .filter(Q(owner=user) | Q(assignee=user), status__in=ACTIVE_STATUSES)
        .order_by("due_at", "pk")
    )
