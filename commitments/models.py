import zoneinfo
from datetime import datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone as tz

from accounts.models import Team, validate_timezone


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"
    PHONE = "phone", "Phone call"


class Customer(models.Model):
    """A person a team made a promise to. Found again by normalized email or phone within the team.

    The same person known to two teams is two records: nothing one team does changes what the
    other sees or where its messages go (only STOP, which is about our number, reaches every team:
    see ``commitments.text_opt_outs``).
    """

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="customers")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True, help_text="Stored lower-cased.")
    phone = models.CharField(max_length=20, blank=True, help_text="Stored in E.164, e.g. +15555550100.")
    preferred_channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    sms_opted_out = models.BooleanField(default=False, help_text="The customer texted STOP or asked for no texts.")
    email_updates_opted_out = models.BooleanField(
        default=False, help_text="The customer unsubscribed from automatic status updates by email."
    )
    notes = models.TextField(blank=True, help_text="Private: never shown to the customer.")
    language = models.CharField(
        max_length=35, blank=True, help_text="BCP 47 tag of the customer's language; blank: FOLLOWTHROUGH_LANGUAGE."
    )
    # An address our email cannot reach (a permanent bounce) or must not (a spam complaint). It is
    # kept as the address itself, so a new email address lifts the stop without anyone clearing it.
    undeliverable_email = models.EmailField(blank=True)
    undeliverable_email_reason = models.CharField(max_length=500, blank=True)
    undeliverable_email_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=tz.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "email"], condition=~Q(email=""), name="customer_unique_email_per_team"
            ),
            models.UniqueConstraint(
                fields=["team", "phone"], condition=~Q(phone=""), name="customer_unique_phone_per_team"
            ),
        ]
        indexes = [models.Index(fields=["phone"], name="customer_phone")]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def local(self, moment: datetime) -> datetime:
        return tz.localtime(moment, self.zone)

    @property
    def email_undeliverable(self) -> bool:
        """Our email does not go to this customer's current address (it bounced, or they called it spam)."""
        return bool(self.email) and self.undeliverable_email == self.email

    @property
    def language_code(self) -> str:
        """The language their messages and status page are in."""
        return self.language or settings.FOLLOWTHROUGH_LANGUAGE


class TextOptOut(models.Model):
    """A phone number that texted STOP to our sending number: no team texts it until it texts START.

    Kept per number, not per customer record, so a team that first meets the number later starts
    with texts stopped too.
    """

    phone = models.CharField(max_length=20, unique=True, help_text="E.164.")
    keyword = models.CharField(max_length=20, default="STOP")
    created_at = models.DateTimeField(default=tz.now)

    def __str__(self) -> str:
        return f"{self.phone} ({self.keyword})"


class Status(models.TextChoices):
    OPEN = "open", "Open"
    WAITING = "waiting", "Waiting on customer"
    FULFILLED = "fulfilled", "Fulfilled"
    CONFIRMED = "confirmed", "Confirmed by customer"
    REOPENED = "reopened", "Reopened"
    MISSED = "missed", "Missed"
    CANCELLED = "cancelled", "Cancelled"


# Still owed to the customer: the statuses the update, escalation and missed sweeps look at.
ACTIVE_STATUSES = (Status.OPEN, Status.WAITING, Status.REOPENED, Status.MISSED)
# The due clock runs (a waiting commitment's clock is paused).
RUNNING_STATUSES = (Status.OPEN, Status.REOPENED)
CLOSED_STATUSES = (Status.CONFIRMED, Status.CANCELLED)
# A status as a sentence says it: "This commitment is waiting on the customer", "status: missed".
STATUS_PHRASES: dict[str, str] = {
    Status.OPEN: "open",
    Status.WAITING: "waiting on the customer",
    Status.FULFILLED: "fulfilled",
    Status.CONFIRMED: "confirmed by the customer",
    Status.REOPENED: "reopened",
    Status.MISSED: "missed",
    Status.CANCELLED: "cancelled",
}


class Temperature(models.TextChoices):
    """How the customer feels: an upset customer hears from us more often and comes first in every list."""

    CALM = "calm", "Calm"
    WORRIED = "worried", "Worried"
    UPSET = "upset", "Upset"


class Commitment(models.Model):
    """One promise to one customer, with one owner who stays answerable until the customer confirms."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="commitments")
    # No index of their own for team, owner and assignee: each leads a composite index below
    # (``commitment_team_due``, ``commitment_owner_status``, ``commitment_assignee_status``) that
    # answers the same look-ups. Every index is one more write each time a sweep moves a row.
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="commitments", db_index=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_commitments", db_index=False
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assigned_commitments", db_index=False
    )
    # No index either: nothing looks commitments up by who logged them but deleting a user (which
    # sets it to null, and may scan for it), while every sweep would write an entry in it.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    summary = models.CharField(max_length=300, help_text="What was promised, in the customer's words.")
    details = models.TextField(blank=True)
    external_ref = models.CharField(max_length=200, blank=True, help_text="Ticket or case number elsewhere.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)

    due_at = models.DateTimeField(help_text="The time promised to the customer.")
    # The dashboard's promise accuracy compares fulfilment with the first time given, which
    # ``due_at`` no longer shows once the promise has been rescheduled.
    promised_at = models.DateTimeField(null=True, blank=True, help_text="The first due time given to the customer.")
    target_at = models.DateTimeField(
        null=True, blank=True, help_text="The owner's own target, which may be earlier than the promise."
    )
    update_interval = models.DurationField(help_text="Longest time between two messages to the customer.")
    temperature = models.CharField(
        max_length=10, choices=Temperature.choices, default=Temperature.CALM, help_text="How the customer feels."
    )
    last_update_at = models.DateTimeField(null=True, blank=True)
    next_update_at = models.DateTimeField(null=True, blank=True)
    # The escalation ladder: how many FOLLOWTHROUGH_ESCALATE_BEFORE warnings are behind us, and when
    # the next staff escalation (a warning, or a missed reminder) is due.
    escalations_sent = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True, help_text="When we started waiting on the customer.")
    waiting_request = models.TextField(blank=True, help_text="What we need from the customer.")
    missed_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)
    satisfaction_due_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    # The customer's status link: the token is derived from this random nonce with the secret key,
    # and only its SHA-256 is stored for look-up. A new nonce revokes the old link.
    status_token_nonce = models.CharField(max_length=64)
    status_token_hash = models.CharField(max_length=64, unique=True)

    created_at = models.DateTimeField(default=tz.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [
            models.Index(
                fields=["next_update_at"], name="commitment_update_due", condition=Q(status__in=ACTIVE_STATUSES)
            ),
            models.Index(
                fields=["next_escalation_at"],
                name="commitment_escalation_due",
                condition=Q(status__in=ACTIVE_STATUSES),
            ),
            models.Index(fields=["due_at"], name="commitment_running_due", condition=Q(status__in=RUNNING_STATUSES)),
            models.Index(
                fields=["satisfaction_due_at"],
                name="commitment_satisfaction_due",
                condition=Q(status=Status.FULFILLED),
            ),
            # Covering for the team list's order (upset customers first, then urgency: status, due and
            # update times, id) and for the lead's dashboard lists (overdue, missed, at risk, grouped
            # by owner): read from the index alone, not from a team's tens of thousands of rows on the
            # heap, and only the statuses a list asks for.
            models.Index(
                fields=["team", "status", "due_at"],
                name="commitment_team_status_due",
                include=["next_update_at", "temperature", "id", "owner"],
            ),
            # Lists in due order, a team's (API, team page) and everyone's (superusers).
            models.Index(fields=["team", "due_at", "id"], name="commitment_team_due"),
            models.Index(fields=["due_at", "id"], name="commitment_due"),
            models.Index(fields=["owner", "status"], name="commitment_owner_status"),
            models.Index(fields=["assignee", "status"], name="commitment_assignee_status"),
            # A team's commitments by the time they were logged, carrying what the dashboard's
            # figures read, so PostgreSQL answers them from the index alone.
            models.Index(
                fields=["team", "created_at"],
                name="commitment_team_figures",
                include=[
                    "id",
                    "owner",
                    "customer",
                    "status",
                    "due_at",
                    "promised_at",
                    "fulfilled_at",
                    "next_update_at",
                    "update_interval",
                ],
            ),
            models.Index(fields=["external_ref"], name="commitment_external_ref"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.summary}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("commitments:detail", args=[self.pk])

    @property
    def is_still_owed(self) -> bool:
        """Still owed to the customer (open, waiting, reopened or missed); not the status "open"."""
        return self.status in ACTIVE_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.status in ACTIVE_STATUSES and self.status != Status.WAITING and self.due_at <= tz.now()

    @property
    def status_url(self) -> str:
        from commitments.status_links import status_url

        return status_url(self)


class CommitmentSearchText(models.Model):
    """The words a commitment is searched by (its summary, details and reference), in a table of their own.

    Their trigram indexes (commitments/migrations/0017) live here, not on the commitment: every
    sweep moves a commitment's times, PostgreSQL then writes an entry in every index of its table
    for the row, and three trigram indexes cost about a third of that. These words change only when
    the commitment is logged or edited (``commitments.services.search_text``), in the same
    transaction. The commitment keeps its own copy for everything else that shows them.
    """

    commitment = models.OneToOneField(
        Commitment, on_delete=models.CASCADE, primary_key=True, related_name="search_text"
    )
    summary = models.CharField(max_length=300)
    details = models.TextField(blank=True)
    external_ref = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.summary


class TimelineEvent(models.Model):
    """Append-only history of a commitment: every change, every message, who did it and when."""

    class Kind(models.TextChoices):
        CREATED = "created", "Logged"
        EDITED = "edited", "Edited"
        UPDATE_SENT = "update_sent", "Update sent"
        RESCHEDULED = "rescheduled", "Rescheduled"
        HANDED_OFF = "handed_off", "Handed off"
        WAITING = "waiting", "Waiting on customer"
        RESUMED = "resumed", "Resumed"
        FULFILLED = "fulfilled", "Fulfilled"
        CONFIRMED = "confirmed", "Confirmed by customer"
        REOPENED = "reopened", "Reopened"
        CHASED = "chased", "Customer chased us"
        CANCELLED = "cancelled", "Cancelled"
        MISSED = "missed", "Missed"
        ESCALATED = "escalated", "Escalated"
        MESSAGE = "message", "Message"
        CUSTOMER_REPLY = "customer_reply", "Customer replied"
        PREFERENCES = "preferences", "Customer preferences changed"
        CALL_LOGGED = "call_logged", "Call logged"

    # Found through ``event_commitment_time`` (commitment, created_at), which starts with it: no index
    # of its own, one less to write for each of the thousands of events a sweep's batch adds.
    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Indexed only where set (``event_staff_actor``): the events a sweep writes by the thousand have
    # no staff actor, and a full index would take an entry for each.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    actor_label = models.CharField(max_length=40, blank=True, help_text="“customer” or “system” when no staff acted.")
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=tz.now, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["commitment", "created_at"], name="event_commitment_time"),
            # The dashboard's "replies not yet answered": the recent replies, found without a scan.
            models.Index(fields=["created_at"], name="event_customer_reply", condition=Q(kind="customer_reply")),
            # Whose events these are, when a user is deleted (their events keep the label, lose the link).
            models.Index(fields=["actor"], name="event_staff_actor", condition=Q(actor__isnull=False)),
            # The dashboard's figures ask of each commitment whether it was chased or reopened.
            models.Index(
                fields=["kind", "commitment", "actor_label"],
                name="event_chased_reopened",
                condition=Q(kind__in=["chased", "reopened"]),
            ),
            # The dashboard reads, for each commitment of its figures, its messages to the customer in
            # time order ("updates on time") and whether it was chased or reopened, in one look-up:
            # covering (INCLUDE, on PostgreSQL) so that is an index-only scan.
            models.Index(
                fields=["commitment", "created_at"],
                include=["kind", "actor_label"],
                name="event_dashboard_figures",
                condition=Q(
                    kind__in=[
                        "created",
                        "update_sent",
                        "rescheduled",
                        "waiting",
                        "resumed",
                        "missed",
                        "chased",
                        "reopened",
                    ]
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on #{self.commitment_id}"

    @property
    def actor_name(self) -> str:
        if self.actor is not None:
            return self.actor.get_full_name() or self.actor.get_username()
        return self.actor_label or "system"


class ContactChange(models.Model):
    """A new email or phone a customer typed on their status page, used only once they confirm it.

    A message with a one-purpose link goes to the new address; until it is opened and confirmed,
    messages keep going where they went. Only the SHA-256 of the link's token is stored.
    """

    class Field(models.TextChoices):
        EMAIL = "email", "Email address"
        PHONE = "phone", "Phone number"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contact_changes")
    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="+")
    field = models.CharField(max_length=10, choices=Field.choices)
    value = models.CharField(max_length=254)
    # The channel the customer asked for with it, switched to once this contact is confirmed.
    then_channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=tz.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.get_field_display()} change for {self.customer}"


class GlossaryTerm(models.Model):
    """A word of the team's own jargon, and the plain word to tell the customer instead (the coach's list)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="glossary")
    term = models.CharField(max_length=80, help_text="As the team writes it, e.g. “RMA”.")
    plain = models.CharField(max_length=200, help_text="What to say instead, e.g. “return number”.")
    created_at = models.DateTimeField(default=tz.now)

    class Meta:
        ordering = ["term"]
        constraints = [models.UniqueConstraint(fields=["team", "term"], name="one_glossary_entry_per_term")]

    def __str__(self) -> str:
        return f"{self.term} → {self.plain}"


class IdempotentRequest(models.Model):
    """A POST an API client sent with an ``Idempotency-Key`` header, and the answer it got.

    A retry with the same key (same user) gets the stored answer instead of acting twice. The
    unique constraint makes it race-safe: a concurrent retry waits on the first request's row and
    then replays its answer. Only successful answers are kept; a refused request changed nothing
    and may simply be tried again.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of method, path and body: the same key sent with a different request is refused.
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=400)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=tz.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="one_request_per_idempotency_key")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"
