"""GET /api/v1/dashboard/: the same figures as the page, per team and per owner (see contract.md)."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from dashboard import selectors
from followthrough.api import errors
from followthrough.api.fields import MAX_ID, DurationField

MAX_PERIOD = 366
KNOWN_PARAMETERS = {"team", "period"}


class FiguresSerializer(serializers.Serializer[selectors.Figures]):
    """The figures of one team or one owner; rates are fractions from 0 to 1, or null with nothing to divide by."""

    commitments = serializers.IntegerField(source="total", help_text="Commitments logged in the period.")
    open = serializers.IntegerField(
        help_text="Not yet fulfilled, confirmed or cancelled (waiting, reopened, missed count)."
    )
    overdue = serializers.IntegerField(help_text="Open and past its due time (missed ones included).")
    missed = serializers.IntegerField(help_text="Status missed.")
    at_risk = serializers.IntegerField(
        help_text="Open, not yet due, due within the last FOLLOWTHROUGH_ESCALATE_BEFORE step."
    )
    fulfilled = serializers.IntegerField(help_text="Fulfilled (confirmed and reopened ones included).")
    on_time_rate = serializers.FloatField(
        allow_null=True, help_text="Fulfilled by the due time / (fulfilled + missed)."
    )
    updates_on_time_rate = serializers.FloatField(
        allow_null=True,
        help_text="Status updates sent within their interval plus one sweep / updates due (sent or still owed).",
    )
    chased = serializers.IntegerField(help_text="Commitments whose customer had to contact us first.")
    chased_rate = serializers.FloatField(
        allow_null=True, help_text="Commitments whose customer had to contact us first / all commitments."
    )
    satisfaction_rate = serializers.FloatField(
        allow_null=True, help_text="Confirmed / satisfaction checks answered (confirmed or reopened by the customer)."
    )
    reopened = serializers.IntegerField(help_text="Commitments reopened after fulfilment.")
    reopened_rate = serializers.FloatField(allow_null=True, help_text="Reopened / fulfilled.")
    promise_accuracy = serializers.FloatField(
        source="promise_held_rate",
        allow_null=True,
        help_text="Fulfilled by the first time promised / (fulfilled + missed).",
    )
    median_slip = DurationField(
        allow_null=True, help_text="When the first promised time did not hold: the median delay to fulfilment."
    )


class OwnerFiguresSerializer(serializers.Serializer[selectors.OwnerFigures]):
    id = serializers.IntegerField(source="owner.pk", help_text="The owner's user id.")
    username = serializers.CharField(source="owner.username", help_text="The owner's username.")
    name = serializers.CharField(source="owner.display_name", help_text="The owner's full name.")

    def to_representation(self, instance: selectors.OwnerFigures) -> dict[str, Any]:
        return {**super().to_representation(instance), **FiguresSerializer(instance.figures).data}


class TeamFiguresSerializer(serializers.Serializer[selectors.TeamFigures]):
    id = serializers.IntegerField(source="team.pk", help_text="The team's id.")
    name = serializers.CharField(source="team.name", help_text="The team's name.")
    owners = OwnerFiguresSerializer(many=True, help_text="Every member who owns a commitment of the period.")

    def to_representation(self, instance: selectors.TeamFigures) -> dict[str, Any]:
        data = super().to_representation(instance)
        owners = data.pop("owners")
        return {**data, **FiguresSerializer(instance.figures).data, "owners": owners}


# For the schema: a team and an owner carry the figures beside their own fields.
class DashboardOwnerSerializer(FiguresSerializer):
    id = serializers.IntegerField(help_text="The owner's user id.")
    username = serializers.CharField(help_text="The owner's username.")
    name = serializers.CharField(help_text="The owner's full name.")


class DashboardTeamSerializer(FiguresSerializer):
    id = serializers.IntegerField(help_text="The team's id.")
    name = serializers.CharField(help_text="The team's name.")
    owners = DashboardOwnerSerializer(many=True, help_text="Every member who owns a commitment of the period.")


class DashboardSerializer(serializers.Serializer[Any]):
    team = serializers.IntegerField(allow_null=True, help_text="The team asked for, or null for all your teams.")
    period = serializers.IntegerField(help_text="Days: commitments logged in this many last days are counted.")
    teams = DashboardTeamSerializer(many=True, help_text="Your teams (or the one asked for), by name.")


class DashboardView(APIView):
    @extend_schema(
        tags=["dashboard"],
        operation_id="dashboard_retrieve",
        summary="The team's figures",
        description=(
            "The figures of your teams and of each owner in them, for the commitments logged in the "
            "last `period` days. A lead sees the whole team; in a team where you are an agent, the "
            "figures are your own. Rates are fractions from 0 to 1, or null where nothing can be divided."
        ),
        parameters=[
            OpenApiParameter(
                "team",
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                description="One of your teams' ids (default: all of them).",
            ),
            OpenApiParameter(
                "period",
                {"type": "integer", "minimum": 1, "maximum": MAX_PERIOD},
                description=f"Days, 1 to {MAX_PERIOD} (default {selectors.DEFAULT_PERIOD}).",
            ),
        ],
        responses={
            200: DashboardSerializer,
            400: errors.BAD_REQUEST,
            401: errors.UNAUTHORIZED,
            404: OpenApiResponse(errors.ErrorSerializer, description="No such team among yours."),
            429: errors.THROTTLED,
        },
    )
    def get(self, request: Request) -> Response:
        user = request.user
        assert isinstance(user, User)
        unknown = sorted(set(request.query_params) - KNOWN_PARAMETERS)
        if unknown:
            raise ValidationError({name: ["Unknown parameter."] for name in unknown})
        team_id = _number(request, "team", low=1, high=MAX_ID)
        period = _number(request, "period", low=1, high=MAX_PERIOD)
        scope = selectors.dashboard_scope(user=user, team_id=team_id)
        if scope is None:
            raise NotFound("No such team among yours.")
        period = period or selectors.DEFAULT_PERIOD
        teams = selectors.team_figures(scope=scope, period=period)
        return Response(
            {"team": team_id, "period": period, "teams": [TeamFiguresSerializer(entry).data for entry in teams]}
        )


def _number(request: Request, name: str, *, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise ValidationError({name: [f"Give a whole number from {low} to {high}."]})
    return int(raw)
