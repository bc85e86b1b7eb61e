"""Forms of the staff pages. They read what was typed into Python values; the services decide.

No business rule lives here: a field is optional in the form when the service checks it, so
every message a person sees comes from one place and lands beside the field it is about.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from accounts.models import Team, User
from commitments.contacts import known_timezones
from commitments.languages import catalog_for, supported_languages
from commitments.models import Channel, Commitment, Temperature
from commitments.services import CustomerDetails
from followthrough.durations import format_duration, parse_duration

# --- Due time: quick picks or an exact local time ----------------------------------------------


@dataclass(frozen=True)
class QuickPick:
    key: str
    label: str
    at: datetime


def quick_due_times(*, zone: zoneinfo.ZoneInfo, workday_ends: time, now: datetime) -> list[QuickPick]:
    """The due times an agent promises most, worked out in the agent's (team's) time zone."""
    local_now = now.astimezone(zone)
    today = local_now.date()
    end_of_day = datetime.combine(today, workday_ends, tzinfo=zone)
    if end_of_day <= local_now + timedelta(minutes=30):
        end_of_day = datetime.combine(today, time(23, 59), tzinfo=zone)
    in_two_hours = (now + timedelta(hours=2)).replace(second=0, microsecond=0)
    picks = [
        QuickPick("in_2_hours", "In 2 hours", in_two_hours),
        QuickPick("end_of_today", "End of today", end_of_day),
        QuickPick("tomorrow_10", "Tomorrow 10:00", datetime.combine(today + timedelta(days=1), time(10), tzinfo=zone)),
        QuickPick("in_3_days", "In 3 days", datetime.combine(today + timedelta(days=3), time(10), tzinfo=zone)),
    ]
    return [pick for pick in picks if pick.at > now]


def parse_local_datetime(text: str, zone: zoneinfo.ZoneInfo) -> datetime:
    """A browser's ``datetime-local`` value (``2025-11-25T10:00``) read in ``zone``; raise ValueError."""
    value = datetime.fromisoformat(text.strip())
    return value if timezone.is_aware(value) else value.replace(tzinfo=zone)


def local_input_value(moment: datetime | None, zone: zoneinfo.ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if moment else ""


class DueTimeMixin:
    """A quick pick (radio chips) or an exact time (``datetime-local``) in the agent's zone."""

    due_field = "due_at"
    zone: zoneinfo.ZoneInfo
    quick_picks: list[QuickPick]

    def clean_due(self: "Any") -> datetime | None:
        choice = self.cleaned_data.get("due_choice") or ""
        exact = (self.cleaned_data.get(self.due_field) or "").strip()
        if choice and choice != "exact":
            picks = {pick.key: pick.at for pick in self.quick_picks}
            if choice in picks:
                return picks[choice]
            self.add_error("due_choice", "That quick pick has passed: choose another or give an exact time.")
            return None
        if not exact:
            return None  # The service says a due time is needed, beside the field.
        try:
            return parse_local_datetime(exact, self.zone)
        except ValueError:
            self.add_error(self.due_field, "Enter a date and time, e.g. 2025-11-25 10:00.")
            return None


def due_choice_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Due",
        required=False,
        choices=[
            ("in_2_hours", "In 2 hours"),
            ("end_of_today", "End of today"),
            ("tomorrow_10", "Tomorrow 10:00"),
            ("in_3_days", "In 3 days"),
            ("exact", "Exact time"),
        ],
    )


def local_datetime_field(label: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


# --- Update interval ---------------------------------------------------------------------------

INTERVAL_CHOICES = [
    ("1h", "Every hour"),
    ("2h", "Every 2 hours"),
    ("4h", "Every 4 hours"),
    ("8h", "Every 8 hours"),
    ("12h", "Every 12 hours"),
    ("24h", "Every day"),
    ("48h", "Every 2 days"),
    ("72h", "Every 3 days"),
]


def interval_label(value: timedelta) -> str:
    written = format_duration(value)
    for key, label in INTERVAL_CHOICES:
        if parse_duration(key) == value:
            return label
    return f"Every {written}"


class IntervalField(forms.ChoiceField):
    """A preset cadence, or any duration an operator writes (``90m``), shown as a choice."""

    def __init__(self, *, default_label: str = "", current: timedelta | None = None, **kwargs: Any) -> None:
        choices: list[tuple[str, str]] = []
        if default_label:
            choices.append(("", default_label))
        choices += INTERVAL_CHOICES
        if current is not None and format_duration(current) not in {key for key, _ in choices}:
            choices.append((format_duration(current), interval_label(current)))
        super().__init__(choices=choices, required=False, **kwargs)

    def valid_value(self, value: Any) -> bool:
        return True  # Any written duration is read by clean(); the service checks the range.

    def clean(self, value: Any) -> timedelta | None:
        text = str(super().clean(value) or "")
        if not text:
            return None
        try:
            return parse_duration(text)
        except ValueError as error:
            raise forms.ValidationError("Write a duration such as 90m, 4h or 2d.") from error


# --- Log a promise -------------------------------------------------------------------------------


def channel_field(initial: str = Channel.EMAIL) -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Preferred channel", choices=Channel.choices, initial=initial, required=False, widget=forms.RadioSelect
    )


def temperature_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="How does the customer feel?",
        choices=Temperature.choices,
        initial=Temperature.CALM,
        required=False,
        widget=forms.RadioSelect,
        help_text="An upset customer hears from us more often and comes first in every list.",
    )


class TimezoneInput(forms.TextInput):
    def __init__(self) -> None:
        super().__init__(attrs={"list": "timezones", "autocomplete": "off", "spellcheck": "false"})


def timezone_names() -> list[str]:
    return sorted(known_timezones())


class LogPromiseForm(DueTimeMixin, forms.Form):
    customer_email = forms.CharField(
        label="Customer email",
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "autofocus": True, "placeholder": "name@example.com"}),
    )
    customer_phone = forms.CharField(
        label="Customer phone",
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "placeholder": "+1 202 555 0143"}),
    )
    customer_name = forms.CharField(label="Customer name", required=False, widget=forms.TextInput(attrs={}))
    preferred_channel = channel_field()
    customer_timezone = forms.CharField(label="Customer's time zone", required=False, widget=TimezoneInput())
    customer_language = forms.ChoiceField(label="Customer's language", required=False, choices=supported_languages)
    summary = forms.CharField(
        label="What did you promise?",
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Send the revised estimate for the water heater"}),
    )
    due_choice = due_choice_field()
    due_at = local_datetime_field("Exact due time")
    details = forms.CharField(label="Details", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    owner = forms.ChoiceField(label="Owner", required=False)
    team = forms.ChoiceField(label="Team", required=False)
    update_interval = IntervalField(label="Proactive updates", default_label="Every day (default)")
    target_at = local_datetime_field(
        "Your own target",
        help_text="Internal: when you expect to be done. With no due time chosen, the customer is promised "
        "the time proposed below.",
    )
    external_ref = forms.CharField(label="Ticket or case number", required=False)
    temperature = temperature_field()

    def __init__(self, *args: Any, user: User, teams: list[Team], now: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.teams = teams
        members = User.objects.filter(memberships__team__in=teams, is_active=True).distinct().order_by("first_name")
        self.members = {str(member.pk): member for member in members}
        owner_field: forms.ChoiceField = self.fields["owner"]  # type: ignore[assignment]
        team_field: forms.ChoiceField = self.fields["team"]  # type: ignore[assignment]
        owner_field.choices = [(key, member.display_name) for key, member in self.members.items()]
        self.fields["owner"].initial = str(user.pk)
        team_field.choices = [(str(team.pk), team.name) for team in teams]
        self.chosen_team = self._chosen_team()
        self.zone = self.chosen_team.zone if self.chosen_team else zoneinfo.ZoneInfo("UTC")
        self.fields["customer_timezone"].initial = self.chosen_team.timezone if self.chosen_team else "UTC"
        self.fields["customer_language"].initial = catalog_for(settings.FOLLOWTHROUGH_LANGUAGE)
        self.fields["due_at"].help_text = f"In {self.zone.key} time."
        workday_ends = self.chosen_team.workday_ends if self.chosen_team else time(17)
        self.quick_picks = quick_due_times(zone=self.zone, workday_ends=workday_ends, now=now)

    def _chosen_team(self) -> Team | None:
        wanted = str(self.data.get("team") or "") if self.is_bound else ""
        for team in self.teams:
            if str(team.pk) == wanted:
                return team
        return self.teams[0] if self.teams else None

    def target(self) -> datetime | None:
        """The owner's own target, read in the team's zone (None when empty or unreadable)."""
        text = (self.data.get("target_at") or "").strip() if self.is_bound else ""
        try:
            return parse_local_datetime(text, self.zone) if text else None
        except ValueError:
            return None

    def chosen_owner(self) -> User:
        wanted = str(self.data.get("owner") or "") if self.is_bound else ""
        return self.members.get(wanted) or self.user

    def service_arguments(self) -> dict[str, Any]:
        """What ``services.create_commitment`` takes, from a valid form."""
        data = self.cleaned_data
        target = None
        if data.get("target_at"):
            try:
                target = parse_local_datetime(data["target_at"], self.zone)
            except ValueError:
                self.add_error("target_at", "Enter a date and time, e.g. 2025-11-25 09:00.")
        return {
            "temperature": data.get("temperature") or Temperature.CALM,
            "customer": CustomerDetails(
                name=data.get("customer_name") or "",
                email=data.get("customer_email") or "",
                phone=data.get("customer_phone") or "",
                preferred_channel=data.get("preferred_channel") or Channel.EMAIL,
                timezone=data.get("customer_timezone") or (self.chosen_team.timezone if self.chosen_team else "UTC"),
                language=data.get("customer_language") or "",
            ),
            "summary": data.get("summary") or "",
            "details": data.get("details") or "",
            "due_at": self.clean_due(),
            "owner": self.members.get(data.get("owner") or "") or self.user,
            "team": self.chosen_team if len(self.teams) > 1 else None,
            "update_interval": data.get("update_interval"),
            "target_at": target,
            "external_ref": data.get("external_ref") or "",
        }


# Where a service's field error lands on this form.
LOG_PROMISE_FIELDS = {
    "customer.name": "customer_name",
    "customer.email": "customer_email",
    "customer.phone": "customer_phone",
    "customer.preferred_channel": "preferred_channel",
    "customer.timezone": "customer_timezone",
    "customer.language": "customer_language",
}


def add_service_errors(form: forms.Form, errors: dict[str, Any], *, fields: dict[str, str] | None = None) -> None:
    """Put each error a service raised beside its field (nested keys are joined with dots)."""
    fields = fields or {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else key, inner)
            return
        name = fields.get(prefix, prefix)
        messages = value if isinstance(value, list) else [value]
        for message in messages:
            form.add_error(name if name in form.fields else None, str(message))

    walk("", errors)
    if "due_at" in errors and "due_at" not in form.fields and "due_choice" in form.fields:
        form.add_error("due_choice", errors["due_at"])


# --- The moves on a commitment -------------------------------------------------------------------


class SendUpdateForm(forms.Form):
    """The composer: four prompted parts, each optional, and the agent's own words.

    The message the customer gets is the parts in order, then anything written in ``message``
    (``commitments.composer.compose_update``); an update written all in ``message`` works as before.
    """

    done = forms.CharField(
        label="What is done",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "The technician measured the boiler this morning."}),
    )
    next_step = forms.CharField(
        label="What happens next",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "We order the part today; it arrives Thursday."}),
    )
    not_known = forms.CharField(
        label="What we do not know yet, and how we will find out",
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": "The exact price: the supplier confirms it by noon tomorrow."}
        ),
    )
    next_contact_at = local_datetime_field("When they hear from us next")
    message = forms.CharField(
        label="Update for the customer",
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "What is done, what is next, and when they will hear from us again."}
        ),
    )

    def __init__(self, *args: Any, commitment: Commitment | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commitment = commitment
        if commitment is not None:
            from commitments.composer import cadence_next_contact

            zone = commitment.customer.zone
            self.fields["next_contact_at"].initial = local_input_value(
                cadence_next_contact(commitment, now=timezone.now()), zone
            )
            self.fields[
                "next_contact_at"
            ].help_text = f"In the customer's time ({zone.key}); prefilled from the update cadence."
            self.fields["message"].help_text = "Or in your own words: it follows the parts above."

    def parts(self) -> dict[str, Any]:
        """The parts as typed (bound or not), the next contact read in the customer's zone."""
        data = self.data if self.is_bound else {}
        moment = None
        text = (data.get("next_contact_at") or "").strip()
        if text and self.commitment is not None:
            try:
                moment = parse_local_datetime(text, self.commitment.customer.zone)
            except ValueError:
                moment = None
        return {
            "done": data.get("done") or "",
            "next_step": data.get("next_step") or "",
            "not_known": data.get("not_known") or "",
            "next_contact_at": moment,
            "message": data.get("message") or "",
        }


class RescheduleForm(DueTimeMixin, forms.Form):
    due_choice = due_choice_field()
    due_at = local_datetime_field("New due time")
    reason = forms.CharField(
        label="Reason (the customer is told)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, commitment: Commitment, now: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = commitment.team.zone
        self.fields["due_choice"].label = "New due time"
        self.fields["due_at"].label = "Exact new due time"
        self.fields["due_at"].help_text = f"In {self.zone.key} time."
        self.quick_picks = quick_due_times(zone=self.zone, workday_ends=commitment.team.workday_ends, now=now)


class HandOffForm(forms.Form):
    assignee = forms.ChoiceField(label="Hand off to", required=False)
    note = forms.CharField(label="Note for them", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, commitment: Commitment, members: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = {str(member.pk): member for member in members if member.pk != commitment.assignee_id}
        assignee_field: forms.ChoiceField = self.fields["assignee"]  # type: ignore[assignment]
        assignee_field.choices = [("", "Choose a teammate")] + [
            (key, member.display_name) for key, member in self.members.items()
        ]

    def chosen(self) -> User | None:
        return self.members.get(self.cleaned_data.get("assignee") or "")


class WaitForm(forms.Form):
    request = forms.CharField(
        label="What exactly do we need from the customer?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "A photo of the serial plate on the water heater."}),
    )


class ResumeForm(forms.Form):
    note = forms.CharField(label="What did we get? (optional)", required=False)


class FulfilForm(forms.Form):
    resolution = forms.CharField(
        label="What was done (the customer is told)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ChaseForm(forms.Form):
    channel = forms.ChoiceField(
        label="How did they reach us?", choices=Channel.choices, initial=Channel.PHONE, widget=forms.RadioSelect
    )
    note = forms.CharField(label="What did they ask?", required=False)


class CancelForm(forms.Form):
    reason = forms.CharField(label="Reason (the customer is told)", required=False)


class ReopenForm(forms.Form):
    reason = forms.CharField(label="What is still wrong?", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class EditForm(forms.Form):
    summary = forms.CharField(label="What was promised", required=False)
    details = forms.CharField(label="Details", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    update_interval = IntervalField(label="Proactive updates")
    target_at = local_datetime_field("Your own target", help_text="Internal: no later than the promised time.")
    clear_target = forms.BooleanField(label="No internal target", required=False)
    temperature = temperature_field()

    def __init__(self, *args: Any, commitment: Commitment, **kwargs: Any) -> None:
        self.zone = commitment.team.zone
        kwargs.setdefault(
            "initial",
            {
                "summary": commitment.summary,
                "details": commitment.details,
                "update_interval": format_duration(commitment.update_interval),
                "target_at": local_input_value(commitment.target_at, self.zone),
                "temperature": commitment.temperature,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["update_interval"] = IntervalField(label="Proactive updates", current=commitment.update_interval)

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        target = None
        if data.get("target_at") and not data.get("clear_target"):
            try:
                target = parse_local_datetime(data["target_at"], self.zone)
            except ValueError:
                self.add_error("target_at", "Enter a date and time, e.g. 2025-11-25 09:00.")
        return {
            "summary": data.get("summary") or "",
            "details": data.get("details") or "",
            "update_interval": data.get("update_interval"),
            "target_at": target,
            "clear_target": bool(data.get("clear_target")),
            "temperature": data.get("temperature") or None,
        }


class LogCallForm(forms.Form):
    note = forms.CharField(label="How did the call go?", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CustomerForm(forms.Form):
    name = forms.CharField(label="Name", required=False)
    email = forms.CharField(label="Email", required=False, widget=forms.EmailInput)
    phone = forms.CharField(label="Phone", required=False, widget=forms.TextInput(attrs={"type": "tel"}))
    preferred_channel = channel_field()
    timezone = forms.CharField(label="Time zone", required=False, widget=TimezoneInput())
    language = forms.ChoiceField(label="Language", required=False, choices=supported_languages)
    notes = forms.CharField(
        label="Private notes",
        required=False,
        help_text="Never shown to the customer.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def details(self) -> CustomerDetails:
        data = self.cleaned_data
        return CustomerDetails(
            name=data.get("name") or "",
            email=data.get("email") or "",
            phone=data.get("phone") or "",
            preferred_channel=data.get("preferred_channel") or Channel.EMAIL,
            timezone=data.get("timezone") or "UTC",
            language=data.get("language") or "",
        )
