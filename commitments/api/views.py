"""The commitment calls of the REST API: thin callers of commitments.services and selectors.

Each view finds the commitment among the caller's teams' commitments (anything else is 404),
checks the body's shape, calls one service and answers with the commitment. Services decide who
may act (403), which moves a status allows (409) and whether the input makes sense (400).
"""

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_tokens import issue_api_token
from accounts.login_lockout import LOCKED_OUT, lockout_minutes
from accounts.models import Team, User
from commitments import composer, selectors, services
from commitments.api.filters import CommitmentFilter
from commitments.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, replay_or_run
from commitments.api.serializers import (
    CancelSerializer,
    ChasedSerializer,
    CommitmentCreateSerializer,
    CommitmentEditSerializer,
    CommitmentSerializer,
    FulfilSerializer,
    HandOffSerializer,
    RescheduleSerializer,
    ResumeSerializer,
    SendUpdateSerializer,
    TeamIdField,
    TimelineEventSerializer,
    WaitSerializer,
)
from commitments.models import Commitment, TimelineEvent
from followthrough.api import errors
from followthrough.api.filters import StrictFilterBackend
from followthrough.api.pagination import ApiPagination
from followthrough.api.parsers import JsonBodyParser
from followthrough.api.throttling import AnonymousRateThrottle

TAG = "commitments"
READ_ERRORS = {401: errors.UNAUTHORIZED, 404: errors.NOT_FOUND, 429: errors.THROTTLED}
LIST_ERRORS = {
    400: errors.BAD_REQUEST,
    401: errors.UNAUTHORIZED,
    404: OpenApiResponse(errors.ErrorSerializer, description="No such page."),
    429: errors.THROTTLED,
}
CREATE_ERRORS = {
    400: errors.BAD_REQUEST,
    401: errors.UNAUTHORIZED,
    415: errors.NOT_JSON,
    422: errors.KEY_REUSED,
    429: errors.THROTTLED,
}
WRITE_ERRORS = {
    400: errors.BAD_REQUEST,
    401: errors.UNAUTHORIZED,
    403: errors.FORBIDDEN,
    404: errors.NOT_FOUND,
    409: errors.CONFLICT,
    415: errors.NOT_JSON,
    422: errors.KEY_REUSED,
    429: errors.THROTTLED,
}


def _actor(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # IsAuthenticated let only staff users through.
    return user


class VisibleCommitmentsView(generics.GenericAPIView[Commitment]):
    """The caller's teams' commitments (all for a superuser): any other id answers 404."""

    def get_queryset(self) -> QuerySet[Commitment]:
        if getattr(self, "swagger_fake_view", False):  # The schema generator has no caller.
            return Commitment.objects.none()
        return _visible(self.request)


def _visible(request: Request) -> QuerySet[Commitment]:
    # The answer names people and the team by id: only the customer is joined. Each of its 50 rows
    # otherwise made five model instances (owner, assignee and team too) out of rows twice as wide;
    # a move re-reads the commitment with what it needs, locked, in its service.
    visible = selectors.visible_commitments(user=_actor(request))
    return visible.select_related(None).select_related("customer").order_by("due_at", "pk")


# --- Token ----------------------------------------------------------------------------------


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as “Authorization: Token <token>”.")


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(help_text="A staff member's username, as on the login page.")
    password = serializers.CharField(style={"input_type": "password"}, help_text="Their password.")


@extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        operation_id="auth_token_create",
        summary="Get an API token",
        description=(
            "Trade a staff member's username and password for a new API token, good for API_TOKEN_LIFETIME "
            "(30 days by default) or until their password changes. After 5 wrong passwords for one username "
            "from one address within 15 minutes, that pair is refused for 15 minutes (429)."
        ),
        request=TokenRequestSerializer,
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(errors.FIELD_ERRORS_SCHEMA, description="Wrong username or password, or one missing."),
            415: OpenApiResponse(errors.ErrorSerializer, description="Send JSON or a form."),
            429: errors.THROTTLED,
        },
        auth=[],
    )
)
class TokenView(APIView):
    # Credentials sent along (a stale token, a session) play no part in asking for a token.
    authentication_classes = ()
    permission_classes = ()
    # Hold password guessing to the anonymous rate, besides the per-username lockout (django-axes).
    throttle_classes = (AnonymousRateThrottle,)
    parser_classes = (JsonBodyParser, FormParser, MultiPartParser)

    def post(self, request: Request) -> Response:
        body = TokenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # authenticate() with the plain HttpRequest: django-axes counts the failure against this
        # username and address, and refuses a locked-out pair before the password is checked.
        user = authenticate(
            request._request, username=body.validated_data["username"], password=body.validated_data["password"]
        )
        if getattr(request._request, "axes_locked_out", False):
            locked = Response({"detail": LOCKED_OUT.format(minutes=lockout_minutes())}, status=429)
            locked["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
            return locked
        if not isinstance(user, User) or not user.is_active:
            raise serializers.ValidationError(
                {"non_field_errors": ["Unable to log in with provided credentials."]}, code="authorization"
            )
        return Response({"token": issue_api_token(user=user)})


# --- Commitments ----------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        tags=[TAG],
        operation_id="commitments_list",
        summary="List commitments",
        description="Your teams' commitments (all of them for a superuser), soonest due first.",
        responses={200: CommitmentSerializer(many=True), **LIST_ERRORS},
    ),
    post=extend_schema(
        tags=[TAG],
        operation_id="commitments_create",
        summary="Log a promise",
        description=(
            "The customer is found again in the commitment's team by normalized email or phone (never "
            "duplicated; another team's customer is another record) and their details brought up to date "
            "(the answer shows only the contacts you gave); they are acknowledged at once on their preferred "
            "channel and the follow-through clock starts."
        ),
        request=CommitmentCreateSerializer,
        responses={201: CommitmentSerializer, **CREATE_ERRORS},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    ),
)
class CommitmentListView(VisibleCommitmentsView, generics.ListAPIView[Commitment]):
    serializer_class = CommitmentSerializer
    filter_backends = (StrictFilterBackend,)
    filterset_class = CommitmentFilter
    pagination_class = ApiPagination
    parser_classes = [JsonBodyParser]

    def post(self, request: Request) -> Response:
        return replay_or_run(request, lambda: self._create(request))

    def _create(self, request: Request) -> Response:
        body = CommitmentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            commitment = services.create_commitment(
                actor=_actor(request),
                customer=services.CustomerDetails(**data["customer"]),
                summary=data["summary"],
                details=data["details"],
                due_at=data.get("due_at"),
                owner=data.get("owner"),
                team=data.get("team"),  # an id: the service reads the team with its memberships
                update_interval=data.get("update_interval"),
                external_ref=data["external_ref"],
                target_at=data.get("target_at"),
                temperature=data["temperature"],
            )
        except Team.DoesNotExist:
            team_field = body.fields["team"]
            assert isinstance(team_field, TeamIdField)
            raise serializers.ValidationError({"team": [team_field.no_such_team(body.initial_data["team"])]}) from None
        answer = CommitmentSerializer(commitment).data
        # The answer tells the caller only the contacts they gave: whatever else is on file for
        # this customer stays on the team's pages, not in a reply to whoever typed an email.
        given = data["customer"]
        answer["customer"] = {
            **answer["customer"],
            "email": answer["customer"]["email"] if given.get("email") else "",
            "phone": answer["customer"]["phone"] if given.get("phone") else "",
        }
        return Response(answer, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        tags=[TAG],
        operation_id="commitments_retrieve",
        summary="Show a commitment",
        responses={200: CommitmentSerializer, **READ_ERRORS},
    ),
    patch=extend_schema(
        tags=[TAG],
        operation_id="commitments_edit",
        summary="Edit a commitment",
        description=(
            "Change what was promised, its details, its update cadence, the owner's target or how the customer "
            "feels. Recorded on the timeline."
        ),
        request=CommitmentEditSerializer,
        responses={200: CommitmentSerializer, **{code: WRITE_ERRORS[code] for code in WRITE_ERRORS if code != 422}},
    ),
)
class CommitmentDetailView(VisibleCommitmentsView, generics.RetrieveAPIView[Commitment]):
    serializer_class = CommitmentSerializer
    parser_classes = [JsonBodyParser]

    def patch(self, request: Request, pk: int) -> Response:
        commitment = self.get_object()
        body = CommitmentEditSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        if "target_at" in changes and changes["target_at"] is None:
            del changes["target_at"]
            changes["clear_target"] = True
        commitment = services.edit_commitment(actor=_actor(request), commitment=commitment, **changes)
        return Response(CommitmentSerializer(commitment).data)


class CommitmentActionView(VisibleCommitmentsView):
    """One lifecycle move: POST a small body, answer with the commitment."""

    body_serializer: ClassVar[type[serializers.Serializer]]
    success_status: ClassVar[int] = status.HTTP_200_OK
    serializer_class = CommitmentSerializer
    parser_classes = [JsonBodyParser]

    def post(self, request: Request, pk: int) -> Response:
        commitment = self.get_object()
        return replay_or_run(request, lambda: self._act(request, commitment))

    def _act(self, request: Request, commitment: Commitment) -> Response:
        body = self.body_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        commitment = self.perform(actor=_actor(request), commitment=commitment, data=body.validated_data)
        return Response(CommitmentSerializer(commitment).data, status=self.success_status)

    def perform(self, *, actor: User, commitment: Commitment, data: dict[str, Any]) -> Commitment:
        raise NotImplementedError


def action_schema(*, operation_id: str, summary: str, description: str, body: type, code: int = 200) -> Any:
    return extend_schema_view(
        post=extend_schema(
            tags=[TAG],
            operation_id=operation_id,
            summary=summary,
            description=description,
            request=body,
            responses={code: CommitmentSerializer, **WRITE_ERRORS},
            parameters=[IDEMPOTENCY_KEY_PARAMETER],
        )
    )


@action_schema(
    operation_id="commitments_send_update",
    summary="Send a status update",
    description="Sent to the customer now on their channel; the next proactive update is counted from now.",
    body=SendUpdateSerializer,
    code=201,
)
class SendUpdateView(CommitmentActionView):
    body_serializer = SendUpdateSerializer
    success_status = status.HTTP_201_CREATED

    def perform(self, *, actor: User, commitment: Commitment, data: dict[str, Any]) -> Commitment:
        message = composer.compose_update(
            done=data["done"], next_step=data["next_step"], not_known=data["not_known"], message=data["message"]
        )
        return services.send_update(
            actor=actor, commitment=commitment, message=message, next_contact_at=data.get("next_contact_at")
        )


@action_schema(
    operation_id="commitments_reschedule",
    summary="Reschedule",
    description="A new due time with a reason; the customer is told both. A missed commitment opens again.",
    body=RescheduleSerializer,
)
class RescheduleView(CommitmentActionView):
    body_serializer = RescheduleSerializer

    def perform(self, *, actor: User, commitment: Commitment, data: dict[str, Any]) -> Commitment:
        return services.reschedule(actor=actor, commitment=commitment, due_at=data["due_at"], reason=data["reason"])


@action_schema(
    operation_id="commitments_hand_off",
    summary="Hand off",
    description="The work moves to another member of the team (told by email); the owner stays the owner.",
    body=HandOffSerializer,
)
class HandOffView(CommitmentActionView):
    body_serializer = HandOffSerializer

    def perform(self, *, actor: User, commitment: Commitment, data: dict[str, Any]) -> Commitment:
        assignee = User.objects.filter(pk=data["assignee"]).first()
        return services.hand_off(actor=actor, commitment=commitment, assignee=assignee, note=data["note"])


@action_schema(
    operation_id="commitments_fulfil",
    summary="Fulfil",
    description="The customer is told what was done; a satisfaction check follows.",
    body=FulfilSerializer,
)
class FulfilView(CommitmentActionView):
    body_serializer = FulfilSerializer

    def perform(self, *, actor: User, commitment: Commitment, data: dict[str, Any]) -> Commitment:
        return services.fulfil(actor=actor, commitment=commitment, resolution=data["resolution"])


@action_schema(
    operation_id="commitments_record_chase",
    summary="Record that the customer chased us",
    description="The customer had to contact us first: the number this product exists to bring to zero.",
    body=ChasedSerializer,
)
class ChasedView(CommitmentActionView):
    body_serializer = ChasedSerializer

    def perform(self, *, actor: User, commitment: Commitment, data: dict[str, Any]) -> Commitment:
        return services.record_chase(actor=actor, commitment=commitment, channel=data["channel"], note=data["note"])


@action_schema(
    operation_id="commitments_wait",
    summary="Wait on the customer",
    description="The customer is asked for exactly what we need; the due clock pauses until we resume.",
    body=WaitSerializer,
)
class WaitView(CommitmentActionView):
    body_serializer = WaitSerializer

    def perform(self, *, actor: User, commitment: Commitment, data: dict[str, Any]) -> Commitment:
        return services.wait_on_customer(actor=actor, commitment=commitment, request=data["request"])


@action_schema(
    operation_id="commitments_resume",
    summary="Resume",
    description="The clock runs again: the due time moves by the time paused, and the customer is told.",
    body=ResumeSerializer,
)
class ResumeView(CommitmentActionView):
    body_serializer = ResumeSerializer

    def perform(self, *, actor: User, commitment: Commitment, data: dict[str, Any]) -> Commitment:
        return services.resume(actor=actor, commitment=commitment, note=data["note"])


@action_schema(
    operation_id="commitments_cancel",
    summary="Cancel",
    description="Messages not yet sent are suppressed and the customer gets a short cancellation notice.",
    body=CancelSerializer,
)
class CancelView(CommitmentActionView):
    body_serializer = CancelSerializer

    def perform(self, *, actor: User, commitment: Commitment, data: dict[str, Any]) -> Commitment:
        return services.cancel(actor=actor, commitment=commitment, reason=data["reason"])


@extend_schema_view(
    get=extend_schema(
        tags=[TAG],
        operation_id="commitments_timeline",
        summary="A commitment's timeline",
        description="Every event on the commitment, oldest first.",
        responses={200: TimelineEventSerializer(many=True), **LIST_ERRORS},
    )
)
class TimelineView(generics.ListAPIView[TimelineEvent]):
    serializer_class = TimelineEventSerializer
    pagination_class = ApiPagination
    filter_backends = (StrictFilterBackend,)

    def get_queryset(self) -> QuerySet[TimelineEvent]:
        if getattr(self, "swagger_fake_view", False):  # The schema generator has no caller.
            return TimelineEvent.objects.none()
        commitment = generics.get_object_or_404(_visible(self.request), pk=self.kwargs["pk"])
        return commitment.events.select_related("actor").order_by("created_at", "pk")
