"""What the API reads and writes. Input serializers check shape and types only; every business
rule (who may act, which moves a status allows, contact details, which text is required) stays in
commitments.services, so a blank text passes here and the service names it with the others.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from accounts.models import Team, User
from commitments.models import Channel, Commitment, Customer, Temperature, TimelineEvent
from followthrough.api.fields import DurationField, FieldsCopiedShallowly, IdField
from followthrough.durations import format_duration

TEXT_LIMIT = 5000


# Times past this cannot be a promise, and near year 9999 the arithmetic on them (a customer's
# local time, a pause added back) overflows Python's datetime.
LATEST_TIME = datetime(3000, 1, 1, tzinfo=UTC)


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time that must carry its UTC offset: a bare local time is ambiguous."""

    default_error_messages = {
        "naive": "Give the time with its UTC offset, e.g. 2026-11-25T10:00:00+01:00.",
        "too_late": "Choose a time before the year 3000.",
    }

    def enforce_timezone(self, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            self.fail("naive")
        moment = super().enforce_timezone(value)
        if moment >= LATEST_TIME:
            self.fail("too_late")
        return moment


# --- Commitments ----------------------------------------------------------------------------


class CustomerSerializer(serializers.ModelSerializer[Customer]):
    # Plain strings: either contact may be blank.
    email = serializers.CharField(read_only=True, help_text="Lower-cased; blank when unknown.")
    phone = serializers.CharField(read_only=True, help_text="E.164, e.g. +15555550100; blank when unknown.")
    language = serializers.CharField(
        source="language_code", read_only=True, help_text="BCP 47: the language of their messages and status page."
    )

    class Meta:
        model = Customer
        fields = ["id", "name", "email", "phone", "preferred_channel", "timezone", "language", "sms_opted_out"]
        read_only_fields = fields
        extra_kwargs = {
            "id": {
                "help_text": "The customer's id: one record per person in each team, found again by email or phone."
            },
            "name": {"help_text": "The customer's name as they gave it."},
            "timezone": {"help_text": "IANA time zone: messages are worded and texts timed in it."},
            "sms_opted_out": {"help_text": "The customer asked for no texts (STOP): messages go by email."},
        }


class CustomerInputSerializer(FieldsCopiedShallowly):
    """The customer's contact details. Found again in the team by normalized email or phone, never duplicated."""

    name = serializers.CharField(max_length=200, allow_blank=True, help_text="The customer's name (required).")
    email = serializers.CharField(
        max_length=254, required=False, allow_blank=True, default="", help_text="Needed when the channel is email."
    )
    phone = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text="E.164 (+15555550100), or national in FOLLOWTHROUGH_PHONE_REGION. Needed for sms and phone.",
    )
    preferred_channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.EMAIL)
    timezone = serializers.CharField(
        max_length=64, required=False, default="UTC", help_text="IANA time zone, e.g. America/New_York."
    )
    language = serializers.CharField(
        max_length=35,
        required=False,
        allow_blank=True,
        default="",
        help_text="BCP 47 (en, es, es-MX): their messages and status page are in it; default FOLLOWTHROUGH_LANGUAGE.",
    )


class CommitmentSerializer(serializers.ModelSerializer[Commitment]):
    """A promise to a customer, as the API shows it."""

    customer = CustomerSerializer(read_only=True, help_text="Who the promise is to.")
    update_interval = DurationField(read_only=True, help_text="Longest time between two messages to the customer.")
    is_overdue = serializers.BooleanField(read_only=True, help_text="Still owed and past its due time.")
    status_url = serializers.URLField(read_only=True, help_text="The customer's status page (no login).")

    class Meta:
        model = Commitment
        fields = [
            "id",
            "status",
            "customer",
            "summary",
            "details",
            "external_ref",
            "owner",
            "assignee",
            "team",
            "created_by",
            "due_at",
            "target_at",
            "temperature",
            "update_interval",
            "last_update_at",
            "next_update_at",
            "is_overdue",
            "waiting_request",
            "paused_at",
            "missed_at",
            "fulfilled_at",
            "resolution",
            "confirmed_at",
            "cancelled_at",
            "status_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "The commitment's id."},
            "status": {"help_text": "Where the promise stands in its lifecycle."},
            "details": {"help_text": "More about the promise, for staff and the customer."},
            "owner": {"help_text": "User id of the owner, answerable until the customer confirms."},
            "assignee": {"help_text": "User id of the person doing the work (the owner unless handed off)."},
            "team": {"help_text": "Team id."},
            "temperature": {"help_text": "How the customer feels: calm, worried or upset (upset comes first)."},
            "created_by": {"help_text": "User id of who logged the promise; null if since removed."},
            "last_update_at": {"help_text": "When the customer last heard from us."},
            "next_update_at": {"help_text": "When the next proactive status update is due; null once closed."},
            "missed_at": {"help_text": "When the due time passed unfulfilled; null unless missed."},
            "fulfilled_at": {"help_text": "When it was fulfilled."},
            "resolution": {"help_text": "What was done, as told to the customer."},
            "confirmed_at": {"help_text": "When the customer confirmed it is resolved."},
            "cancelled_at": {"help_text": "When it was cancelled."},
            "created_at": {"help_text": "When the promise was logged."},
            "updated_at": {"help_text": "When anything about it last changed."},
        }

    def to_representation(self, instance: Commitment) -> dict[str, Any]:
        """The same answer DRF's field-by-field walk gives, written out: a list page of fifty
        commitments spent most of its time in that walk (about 1,500 field calls, each asking
        for the current time zone)."""
        c = instance
        customer = c.customer
        zone = timezone.get_current_timezone()

        def moment(value: datetime | None) -> str | None:
            return None if value is None else _iso(value.astimezone(zone))

        return {
            "id": c.pk,
            "status": str(c.status),
            "customer": {
                "id": customer.pk,
                "name": customer.name,
                "email": customer.email,
                "phone": customer.phone,
                "preferred_channel": str(customer.preferred_channel),
                "timezone": customer.timezone,
                "language": customer.language_code,
                "sms_opted_out": customer.sms_opted_out,
            },
            "summary": c.summary,
            "details": c.details,
            "external_ref": c.external_ref,
            "owner": c.owner_id,
            "assignee": c.assignee_id,
            "team": c.team_id,
            "created_by": c.created_by_id,
            "due_at": moment(c.due_at),
            "target_at": moment(c.target_at),
            "temperature": str(c.temperature),
            "update_interval": format_duration(c.update_interval),
            "last_update_at": moment(c.last_update_at),
            "next_update_at": moment(c.next_update_at),
            "is_overdue": c.is_overdue,
            "waiting_request": c.waiting_request,
            "paused_at": moment(c.paused_at),
            "missed_at": moment(c.missed_at),
            "fulfilled_at": moment(c.fulfilled_at),
            "resolution": c.resolution,
            "confirmed_at": moment(c.confirmed_at),
            "cancelled_at": moment(c.cancelled_at),
            "status_url": c.status_url,
            "created_at": moment(c.created_at),
            "updated_at": moment(c.updated_at),
        }


def _iso(value: datetime) -> str:
    """As DRF writes a time (ISO 8601, UTC as ``Z``)."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class TeamIdField(serializers.PrimaryKeyRelatedField):
    """A team's id, checked here only as DRF's field checks its type: the service reads the team
    with the caller's membership in one query, and a team that does not exist is named then, with
    this field's own message (``no_such_team``), as if it had been looked up here."""

    def to_internal_value(self, data: Any) -> int:
        try:
            if isinstance(data, bool):
                raise TypeError
            # What the field's lookup would have made of it ("7" and 7.0 name team 7).
            return int(Team._meta.pk.get_prep_value(data))
        except (TypeError, ValueError, OverflowError):  # 1e400 reads as infinity: no id either
            self.fail("incorrect_type", data_type=type(data).__name__)
        raise AssertionError  # fail() always raises.

    def no_such_team(self, data: Any) -> ErrorDetail:
        return ErrorDetail(self.error_messages["does_not_exist"].format(pk_value=data), code="does_not_exist")


class CommitmentCreateSerializer(FieldsCopiedShallowly):
    customer = CustomerInputSerializer(help_text="Who the promise is to, and how they want to hear from us.")
    summary = serializers.CharField(
        max_length=300, allow_blank=True, help_text="What was promised, in the customer's words."
    )
    details = serializers.CharField(
        max_length=TEXT_LIMIT, required=False, allow_blank=True, default="", help_text="More about the promise."
    )
    due_at = AwareDateTimeField(
        required=False,
        allow_null=True,
        help_text="The time promised to the customer, ISO 8601 with its UTC offset. May be left out when "
        "target_at is given: the owner's target plus the buffer their history calls for is promised.",
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True, help_text="User id; the caller by default."
    )
    team = TeamIdField(
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        help_text="Team id; by default the owner's only team.",
    )
    update_interval = DurationField(
        required=False, allow_null=True, help_text="Between 10s and 30d; FOLLOWTHROUGH_UPDATE_INTERVAL by default."
    )
    external_ref = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="Ticket or case number elsewhere."
    )
    target_at = AwareDateTimeField(
        required=False, allow_null=True, help_text="The owner's own target, no later than the due time."
    )
    temperature = serializers.ChoiceField(
        choices=Temperature.choices,
        required=False,
        default=Temperature.CALM,
        help_text="How the customer feels; an upset customer gets the team's shorter update interval.",
    )

    def to_internal_value(self, data: Any) -> Any:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            # Refused for other fields: say too whether the team exists, as a look-up here would have.
            raise serializers.ValidationError(self._naming_a_missing_team(data, error.detail)) from error

    def _naming_a_missing_team(self, data: Any, errors: Any) -> Any:
        given = data.get("team") if isinstance(data, Mapping) else None
        if not isinstance(errors, dict) or "team" in errors or given is None:
            return errors
        field = self.fields["team"]
        assert isinstance(field, TeamIdField)
        if Team.objects.filter(pk=field.to_internal_value(given)).exists():
            return errors
        named = {**errors, "team": [field.no_such_team(given)]}
        return {name: named[name] for name in [*self.fields, *errors] if name in named}


class CommitmentEditSerializer(serializers.Serializer):
    summary = serializers.CharField(
        max_length=300, required=False, allow_blank=True, help_text="What was promised (not blank)."
    )
    details = serializers.CharField(
        max_length=TEXT_LIMIT, required=False, allow_blank=True, help_text="More about the promise."
    )
    update_interval = DurationField(required=False, help_text="Between 10s and 30d.")
    target_at = AwareDateTimeField(
        required=False, allow_null=True, help_text="The owner's own target, no later than the due time; null clears it."
    )
    temperature = serializers.ChoiceField(
        choices=Temperature.choices,
        required=False,
        help_text="How the customer feels; upset shortens the update interval to the team's.",
    )


class SendUpdateSerializer(serializers.Serializer):
    message = serializers.CharField(
        max_length=TEXT_LIMIT,
        allow_blank=True,
        required=False,
        default="",
        help_text="The update, sent now on the customer's channel (after the parts below, when given).",
    )
    done = serializers.CharField(
        max_length=TEXT_LIMIT, allow_blank=True, required=False, default="", help_text="Optional: what is done."
    )
    next_step = serializers.CharField(
        max_length=TEXT_LIMIT, allow_blank=True, required=False, default="", help_text="Optional: what happens next."
    )
    not_known = serializers.CharField(
        max_length=TEXT_LIMIT,
        allow_blank=True,
        required=False,
        default="",
        help_text="Optional: what we do not know yet, and how we will find out.",
    )
    next_contact_at = AwareDateTimeField(
        required=False,
        allow_null=True,
        help_text="Optional: when the customer hears from us next; the next update is due then, or at the "
        "cadence's time if that comes first.",
    )


class RescheduleSerializer(serializers.Serializer):
    due_at = AwareDateTimeField(help_text="The new due time, ISO 8601 with its UTC offset.")
    reason = serializers.CharField(
        max_length=TEXT_LIMIT, allow_blank=True, help_text="Why the time changes, told to the customer."
    )


class HandOffSerializer(serializers.Serializer):
    assignee = IdField(help_text="User id of a member of the commitment's team.")
    note = serializers.CharField(
        max_length=TEXT_LIMIT,
        required=False,
        allow_blank=True,
        default="",
        help_text="For the new assignee and the timeline.",
    )


class FulfilSerializer(serializers.Serializer):
    resolution = serializers.CharField(
        max_length=TEXT_LIMIT, allow_blank=True, help_text="What was done, told to the customer."
    )


class ChasedSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices, help_text="How the customer contacted us.")
    note = serializers.CharField(
        max_length=TEXT_LIMIT, required=False, allow_blank=True, default="", help_text="What the customer asked."
    )


class WaitSerializer(serializers.Serializer):
    request = serializers.CharField(
        max_length=TEXT_LIMIT, allow_blank=True, help_text="Exactly what we need from the customer."
    )


class ResumeSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=TEXT_LIMIT,
        required=False,
        allow_blank=True,
        default="",
        help_text="What the customer answered; told to them with the new due time.",
    )


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=TEXT_LIMIT,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why, for the timeline and the customer's notice.",
    )


# --- Timeline -------------------------------------------------------------------------------


class TimelineEventSerializer(serializers.ModelSerializer[TimelineEvent]):
    actor_name = serializers.CharField(
        read_only=True, help_text="Who acted: a member of staff's name, “customer” or “system”."
    )
    data = serializers.DictField(  # type: ignore[assignment]  # A field named like Serializer.data.
        read_only=True, help_text='What changed, e.g. {"from": ..., "to": ...} for a reschedule.'
    )

    class Meta:
        model = TimelineEvent
        fields = ["id", "kind", "actor", "actor_name", "message", "data", "created_at"]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "The event's id."},
            "kind": {"help_text": "What happened."},
            "actor": {"help_text": "User id of the member of staff who acted; null for the customer or the system."},
            "message": {"help_text": "The words that went with it: the update, the reason, the note."},
            "created_at": {"help_text": "When it happened."},
        }
