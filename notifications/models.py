from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from commitments.models import Channel, Commitment


class MessageKind(models.TextChoices):
    """What a message says (an acknowledgement, a status update, an escalation...); what happened to
    a commitment is a TimelineEvent.Kind."""

    # To the customer
    ACKNOWLEDGEMENT = "acknowledgement", "Acknowledgement"
    STATUS_UPDATE = "status_update", "Status update"
    RESCHEDULE = "reschedule", "Reschedule notice"
    WAITING = "waiting", "Request for information"
    RESOLUTION = "resolution", "Resolution notice"
    SATISFACTION_CHECK = "satisfaction_check", "Satisfaction check"
    APOLOGY = "apology", "Apology"
    CANCELLATION = "cancellation", "Cancellation notice"
    # To a new email address or phone number the customer gave: confirm it before we use it.
    CONTACT_CHECK = "contact_check", "Contact confirmation"
    # To staff
    ESCALATION = "escalation", "Escalation"
    ALERT = "alert", "Alert"
    CALL_TASK = "call_task", "Call task"
    DIGEST = "digest", "Digest"


CUSTOMER_KINDS = {
    MessageKind.ACKNOWLEDGEMENT,
    MessageKind.STATUS_UPDATE,
    MessageKind.RESCHEDULE,
    MessageKind.WAITING,
    MessageKind.RESOLUTION,
    MessageKind.SATISFACTION_CHECK,
    MessageKind.APOLOGY,
    MessageKind.CANCELLATION,
}


class Audience(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    STAFF = "staff", "Staff"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Suppressed"


class Notification(models.Model):
    """One message in the outbox, written in the same transaction as the change that caused it.

    ``idempotency_key`` is unique: a second sweep, beat or retried task that would make the same
    message finds the row already there and does nothing. Delivery claims pending rows whose
    ``next_attempt_at`` has come and whose lease (``leased_until``) is free.
    """

    # Indexed (with the time) by notification_commitment_time: a second index on the key alone
    # would only slow down every insert. Empty for a lead's daily digest, which is about a team.
    commitment = models.ForeignKey(
        Commitment, on_delete=models.CASCADE, related_name="notifications", db_index=False, null=True, blank=True
    )
    kind = models.CharField(max_length=20, choices=MessageKind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    audience = models.CharField(max_length=10, choices=Audience.choices)
    recipient = models.CharField(max_length=254, help_text="An email address or an E.164 number.")
    # Set for staff only, and indexed only where set (``notification_staff_recipient``): the
    # customers' messages a sweep writes by the thousand would each take an empty entry.
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
        db_index=False,
    )
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    # The HTML version of an email is drawn at send time from ``body`` and ``layout`` (the facts
    # shown around the text, as they were when the message was made); ``html_body``, when set,
    # is sent as it is (messages made before the layout existed).
    html_body = models.TextField(blank=True)
    layout = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    scheduled_for = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    leased_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Unique by the constraint below (``unique=True`` would add a pattern index no lookup uses).
    idempotency_key = models.CharField(max_length=200)
    # For call tasks: the customer message the call delivers, when the owner logged the call, and
    # when an undone task escalates to owner and lead (cleared once done or escalated).
    customer_kind = models.CharField(max_length=20, choices=MessageKind.choices, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    escalate_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    # Not a column: set by ``delivery.claim`` to when this worker's lease on the row runs out,
    # on this worker's own clock (the lease itself is on the database's).
    lease_ends_here: datetime | None = None

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="notification_unique_idempotency_key"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="notification_deliverable", condition=Q(status="pending")),
            models.Index(fields=["commitment", "created_at"], name="notification_commitment_time"),
            models.Index(
                fields=["recipient_user"],
                name="notification_staff_recipient",
                condition=Q(recipient_user__isnull=False),
            ),
            models.Index(
                fields=["escalate_at"], name="notification_call_escalation", condition=Q(escalate_at__isnull=False)
            ),
            models.Index(
                fields=["recipient_user", "created_at"],
                name="notification_open_call_tasks",
                condition=Q(kind="call_task", completed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient} ({self.status})"

    @property
    def message_id(self) -> str:
        """A stable Message-ID, the same on every attempt, so a receiver can drop a repeat."""
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "followthrough.localhost"
        return f"<{self.idempotency_key.replace(':', '.')}@{domain}>"


class UnmatchedEmail(models.Model):
    """Mail that came in for no commitment (a stale or mangled reply address, a stray message).

    Kept, never dropped, for an operator to read in the admin and pass on by hand.
    """

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    recipient = models.CharField(max_length=254, blank=True)
    sender = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True, help_text="The new text, quoted history left out.")
    full_text = models.TextField(blank=True)
    attachments = models.JSONField(default=list, blank=True, help_text="The attachments' file names.")
    message_id = models.CharField(max_length=300, blank=True)
    handled = models.BooleanField(default=False, help_text="An operator has dealt with it.")

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            # Mailgun retries a webhook it got no answer to: the same message is kept once.
            models.UniqueConstraint(fields=["message_id"], condition=~Q(message_id=""), name="unmatched_email_once"),
        ]

    def __str__(self) -> str:
        return f"{self.sender} → {self.recipient}: {self.subject}"


class TeamTemplate(models.Model):
    """One saved version of a team's wording for one kind of customer message.

    Versions are never changed: each save adds one, and the newest is the one in use. Undo adds
    a version with the previous one's words; a version that ``uses_default`` puts back the
    product's own wording.
    """

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="template_versions")
    kind = models.CharField(
        max_length=20, choices=[(kind.value, kind.label) for kind in MessageKind if kind in CUSTOMER_KINDS]
    )
    version = models.PositiveIntegerField()
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    sms = models.TextField(blank=True)
    uses_default = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["team", "kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["team", "kind", "version"], name="one_template_version_per_number")
        ]

    def __str__(self) -> str:
        return f"{self.team} {self.kind} v{self.version}"


class SweepTick(models.Model):
    """Beat's last tick, as the sweep task ran it: one row per periodic job, overwritten each time.

    Operators read it (``/readyz``, ``/metrics``, the Delivery page) to tell whether beat is ticking
    and how long a sweep takes. Times are the database's, like the leases.
    """

    name = models.CharField(max_length=50, unique=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    duration_seconds = models.FloatField()
    commitments_swept = models.PositiveIntegerField(default=0)
    runs = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} at {self.started_at:%Y-%m-%d %H:%M:%S}"
