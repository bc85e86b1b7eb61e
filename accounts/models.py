import zoneinfo
from datetime import time, timedelta
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known time zone (use an IANA name such as Europe/Paris).")


def validate_working_days(value: str) -> None:
    try:
        days = {int(part) for part in value.split(",") if part.strip()}
    except ValueError:
        days = {0}
    if not days or not days <= set(range(1, 8)):
        raise ValidationError("List ISO weekdays separated by commas, 1 = Monday … 7 = Sunday.")


class User(AbstractUser):
    """A member of staff: an agent who makes promises or a lead who answers for a team."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        # set_password() leaves the new raw password in _password until the save: a changed
        # password ends every API token the old one gave out.
        password_changed = getattr(self, "_password", None) is not None and self.pk is not None
        super().save(*args, **kwargs)
        if password_changed:
            ApiToken.objects.filter(user=self).delete()

    @property
    def display_name(self) -> str:
        return display_name(self.first_name, self.last_name, self.username)


def display_name(first_name: str, last_name: str, username: str) -> str:
    """How a member of staff is named on a page: their full name, else their username."""
    return f"{first_name} {last_name}".strip() or username


class Team(models.Model):
    name = models.CharField(max_length=120, unique=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    workday_starts = models.TimeField(default=time(9, 0), help_text="Staff warnings are sent from this time…")
    workday_ends = models.TimeField(default=time(17, 0), help_text="…until this time, in the team's time zone.")
    working_days = models.CharField(
        max_length=20,
        default="1,2,3,4,5",
        validators=[validate_working_days],
        help_text="ISO weekdays separated by commas, 1 = Monday … 7 = Sunday.",
    )
    upset_update_interval = models.DurationField(
        default=timedelta(hours=4),
        help_text="Longest time between two messages to an upset customer (shorter than the usual cadence).",
    )
    default_promise_buffer = models.DurationField(
        default=timedelta(hours=4),
        help_text="Added to an owner's own target to make the promise, until their history says better.",
    )
    # The version of the team's own wording in use for each kind of customer message (kind to
    # notifications.TeamTemplate id), kept here so writing a message costs no query to find it.
    message_templates = models.JSONField(default=dict, blank=True, editable=False)
    members: "models.ManyToManyField[User, Membership]" = models.ManyToManyField(
        User, through="Membership", related_name="teams"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.workday_starts >= self.workday_ends:
            raise ValidationError({"workday_ends": "The working day must end after it starts."})

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def working_weekdays(self) -> set[int]:
        return {int(part) for part in self.working_days.split(",") if part.strip()}


class Holiday(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["team", "date"], name="one_holiday_per_team_day")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}".strip()


class Membership(models.Model):
    class Role(models.TextChoices):
        AGENT = "agent", "Agent"
        LEAD = "lead", "Lead"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.AGENT)

    class Meta:
        ordering = ["team__name", "user__username"]
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="one_membership_per_team")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.team})"


class ApiToken(models.Model):
    """An API token (``Authorization: Token <token>``). Only its SHA-256 is stored; it expires.

    The token itself is shown once, in the answer to ``POST /api/v1/auth/token/``. A password change
    deletes every token of the user; expired ones are pruned by the daily housekeeping.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"API token of {self.user} (until {self.expires_at:%Y-%m-%d %H:%M})"
