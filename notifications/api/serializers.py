from rest_framework import serializers

from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    """One message in the outbox: to the customer or to staff, and how its delivery went."""

    class Meta:
        model = Notification
        fields = [
            "id",
            "commitment",
            "kind",
            "channel",
            "audience",
            "recipient",
            "subject",
            "body",
            "status",
            "scheduled_for",
            "sent_at",
            "attempts",
            "last_error",
            "idempotency_key",
            "completed_at",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "The message's id."},
            "commitment": {"help_text": "The commitment it was made for."},
            "kind": {"help_text": "What the message is, e.g. acknowledgement, status_update, escalation."},
            "channel": {"help_text": "How it goes out."},
            "audience": {"help_text": "To the customer or to staff."},
            "subject": {"help_text": "The email subject; blank for a text."},
            "body": {"help_text": "The text of the message."},
            "status": {
                "help_text": "pending until delivered; failed after a permanent error; suppressed when not sent."
            },
            "scheduled_for": {"help_text": "When it is due to go out (quiet hours and working hours applied)."},
            "sent_at": {"help_text": "When it was delivered; null until then."},
            "last_error": {"help_text": "The last delivery error, if any."},
            "created_at": {"help_text": "When it was made."},
            "attempts": {"help_text": "Every try counts, the successful one included."},
            "idempotency_key": {"help_text": "The same across retries, so a receiver can drop a repeat."},
            "completed_at": {"help_text": "For a call task: when the owner logged the call."},
        }
