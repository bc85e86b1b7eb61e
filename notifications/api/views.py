"""GET /api/v1/notifications/?commitment={id}: every message made for the caller's teams' commitments."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics

from accounts.models import User
from commitments.api import errors
from commitments.api.filters import StrictFilterBackend
from commitments.api.pagination import ApiPagination
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
            "A commitment of another team lists nothing."
        ),
        responses={
            200: NotificationSerializer(many=True),
            400: errors.BAD_REQUEST,
            401: errors.UNAUTHORIZED,
            404: OpenApiResponse(errors.ErrorSerializer, description="No such page."),
            429: errors.THROTTLED,
        },
    )
)
class NotificationListView(generics.ListAPIView[Notification]):
    serializer_class = NotificationSerializer
    filter_backends = (StrictFilterBackend,)
    filterset_class = NotificationFilter
    pagination_class = ApiPagination

    def get_queryset(self) -> QuerySet[Notification]:
        notifications = Notification.objects.order_by("created_at", "pk")
        if getattr(self, "swagger_fake_view", False):  # The schema generator has no caller.
            return Notification.objects.none()
        user = self.request.user
        assert isinstance(user, User)  # Only signed-in staff get this far.
        if user.is_superuser:
            return notifications
        return notifications.filter(commitment__team__memberships__user_id=user.pk)
