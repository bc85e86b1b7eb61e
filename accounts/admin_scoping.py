"""The admin shows a staff user only their own teams' rows, like every page and the API.

A superuser sees everything; any other staff user (given model permissions by an operator) sees
the customers, commitments, timelines and messages of the teams they are a member of, nothing else.
"""

from typing import Any

from django.db.models import Model, QuerySet
from django.http import HttpRequest

from accounts.models import Membership


class TeamScopedAdminMixin:
    """``team_lookup`` is the path from the model to its team (``"team"``, ``"commitment__team"``)."""

    team_lookup = "team"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset: QuerySet[Any] = super().get_queryset(request)  # type: ignore[misc]
        user = request.user
        if user.is_superuser:
            return queryset
        team_ids = list(Membership.objects.filter(user_id=user.pk or 0).values_list("team_id", flat=True))
        return queryset.filter(**{f"{self.team_lookup}__in": team_ids})

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        allowed: bool = super().has_view_permission(request, obj)  # type: ignore[misc]
        if not allowed or obj is None or request.user.is_superuser:
            return allowed
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        allowed: bool = super().has_change_permission(request, obj)  # type: ignore[misc]
        if not allowed or obj is None or request.user.is_superuser:
            return allowed
        return self.get_queryset(request).filter(pk=obj.pk).exists()
