"""GET /api/v1/notifications/?commitment={id}: every message made for the caller's teams' commitments."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from commitments import selectors
from followthrough.api import errors
from followthrough.api.filters import StrictFilterBackend
from followthrough.api.pagination import ApiPagination
from notifications.api.filters import NotificationFilter
from notifications.api.serializers import NotificationSerializer
from notifications.models import Notification


@extend_schema_view(
    get=extend_schema(
        tags=["notifications"],
        operation_id="notifications_list",
        summary="Messages",
        description=(
            "Every message made for your teams' commitments, to customers and to staff, oldest first. "
            "A commitment of another team, or none, answers 404."
        ),
        responses={
            200: NotificationSerializer(many=True),
            400: errors.BAD_REQUEST,
            401: errors.UNAUTHORIZED,
            404: OpenApiResponse(errors.ErrorSerializer, description="No such commitment in your teams, or page."),
            429: errors.THROTTLED,
        },
    )
)
class NotificationListView(generics.ListAPIView[Notification]):
    serializer_class = NotificationSerializer
    filter_backends = (StrictFilterBackend,)
    filterset_class = NotificationFilter
    pagination_class = ApiPagination

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        commitment_id = request.query_params.get("commitment", "")
        if commitment_id.isdigit():
            user = request.user
            assert isinstance(user, User)
            if not selectors.visible_commitments(user=user).filter(pk=int(commitment_id)).exists():
                raise NotFound("No such commitment in your teams.")
        return super().list(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Notification]:
        notifications = Notification.objects.order_by("created_at", "pk")
        if getattr(self, "swagger_fake_view", False):  # The schema generator has no caller.
            return Notification.objects.none()
        user = self.request.user
        assert isinstance(user, User)  # Only signed-in staff get this far.
        if user.is_superuser:
            return notifications
        return notifications.filter(commitment__in=selectors.visible_commitments(user=user).values("pk"))
