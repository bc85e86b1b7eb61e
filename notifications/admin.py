"""The outbox in the admin: read-only rows, found by status, kind, channel, recipient or key.

The one write is the "retry now" action, which goes through ``delivery.retry_now``.
"""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin_scoping import TeamScopedAdminMixin
from notifications import delivery
from notifications.models import Notification, TeamTemplate, UnmatchedEmail


@admin.register(Notification)
class NotificationAdmin(TeamScopedAdminMixin, admin.ModelAdmin):
    team_lookup = "commitment__team"
    list_display = [
        "id",
        "commitment",
        "kind",
        "channel",
        "audience",
        "recipient",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "short_error",
    ]
    list_filter = ["status", "kind", "channel", "audience"]
    search_fields = ["recipient", "idempotency_key", "subject"]
    list_select_related = ["commitment"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-pk"]
    actions = ["retry_now"]
    fieldsets = [
        (None, {"fields": ["commitment", "kind", "channel", "audience", "recipient", "recipient_user"]}),
        (
            "Delivery",
            {
                "fields": [
                    "status",
                    "attempts",
                    "last_error",
                    "scheduled_for",
                    "next_attempt_at",
                    "leased_until",
                    "sent_at",
                    "completed_at",
                    "idempotency_key",
                    "created_at",
                ]
            },
        ),
        ("Message", {"fields": ["subject", "body", "html_body"]}),
    ]

    @admin.display(description="Last error")
    def short_error(self, notification: Notification) -> str:
        error = notification.last_error
        return error if len(error) <= 80 else f"{error[:79]}…"

    def get_readonly_fields(self, request: HttpRequest, obj: Notification | None = None) -> list[str]:
        # Every field: the outbox is history; delivery and the services are its only writers.
        return [field.name for field in Notification._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return False

    @admin.action(description="Retry the selected messages now", permissions=["change"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        selected = list(queryset.values_list("pk", flat=True))
        count = delivery.retry_now(notification_ids=selected)
        if count:
            self.message_user(request, f"{count} message(s) will be sent again now.", messages.SUCCESS)
        skipped = len(selected) - count
        if skipped:
            self.message_user(
                request,
                f"{skipped} message(s) left alone: only failed or waiting email and text messages can be retried.",
                messages.WARNING,
            )


@admin.register(UnmatchedEmail)
class UnmatchedEmailAdmin(admin.ModelAdmin):
    """Mail that reached no commitment: read it, pass it on, tick "handled"."""

    list_display = ["received_at", "sender", "recipient", "subject", "handled"]
    list_filter = ["handled"]
    search_fields = ["sender", "recipient", "subject", "text"]
    readonly_fields = [
        "received_at",
        "recipient",
        "sender",
        "subject",
        "text",
        "full_text",
        "attachments",
        "message_id",
    ]
    fields = [*readonly_fields, "handled"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(TeamTemplate)
class TeamTemplateAdmin(admin.ModelAdmin):
    """Versions are written by leads in the app (Team > Message templates) and never changed."""

    list_display = ["team", "kind", "version", "uses_default", "created_by", "created_at"]
    list_filter = ["team", "kind"]
    readonly_fields = ["team", "kind", "version", "subject", "body", "sms", "uses_default", "created_by", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TeamTemplate | None = None) -> bool:
        return False
