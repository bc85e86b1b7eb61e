"""GET /api/v1/teams/: the caller's teams, with their members and roles."""

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics

from accounts.api.serializers import TeamSerializer
from accounts.models import Membership, Team, User
from followthrough.api import errors
from followthrough.api.filters import StrictFilterBackend
from followthrough.api.pagination import ApiPagination


@extend_schema_view(
    get=extend_schema(
        tags=["teams"],
        operation_id="teams_list",
        summary="Your teams",
        description="The teams you belong to (every team for a superuser), with their active members and roles.",
        responses={
            200: TeamSerializer(many=True),
            400: errors.BAD_REQUEST,
            401: errors.UNAUTHORIZED,
            404: OpenApiResponse(errors.ErrorSerializer, description="No such page."),
            429: errors.THROTTLED,
        },
    )
)
class TeamListView(generics.ListAPIView[Team]):
    serializer_class = TeamSerializer
    pagination_class = ApiPagination
    filter_backends = (StrictFilterBackend,)

    def get_queryset(self) -> QuerySet[Team]:
        members = Membership.objects.filter(user__is_active=True).select_related("user").order_by("user__username")
        teams = Team.objects.prefetch_related(Prefetch("memberships", queryset=members)).order_by("name", "pk")
        if getattr(self, "swagger_fake_view", False):  # The schema generator has no caller.
            return Team.objects.none()
        user = self.request.user
        assert isinstance(user, User)  # Only signed-in staff get this far.
        if user.is_superuser:
            return teams
        return teams.filter(memberships__user_id=user.pk)
