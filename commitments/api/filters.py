"""The filters of the commitment list: ``?status=open&overdue=true&customer=dana@example.com``."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import django_filters
from django import forms
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_filters.fields import IsoDateTimeField

from commitments.contacts import normalize_email, normalize_phone
from commitments.models import ACTIVE_STATUSES, Commitment, Status
from commitments.selectors import matching_text
from followthrough.api.filters import IdFilter

PHONE_WRITING = re.compile(r"^[\d\s().+-]+$")


class StrictBooleanField(forms.Field):
    """``true`` or ``false``, as the schema says; anything else is an error, not silently ignored."""

    default_error_messages = {"invalid": "Use true or false."}
    TRUE = frozenset({"true"})
    FALSE = frozenset({"false"})

    def to_python(self, value: Any) -> bool | None:
        text = str(value).strip().lower() if value is not None else ""
        if not text:
            return None
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class FlagFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, turned to UTC: PostgreSQL refuses offsets past ±15:59 that Python reads."""

    def to_python(self, value: Any) -> datetime | None:
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError as error:
            raise forms.ValidationError("Choose a time between the years 1 and 9999.", code="overflow") from error


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


def overdue_q(now: Any) -> Q:
    """Still owed to the customer (waiting and missed included) and past its due time."""
    return Q(status__in=ACTIVE_STATUSES, due_at__lte=now)


def at_risk_q(now: Any) -> Q:
    """Still owed, not yet due, and due within the last FOLLOWTHROUGH_ESCALATE_BEFORE step."""
    steps = list(settings.FOLLOWTHROUGH_ESCALATE_BEFORE)
    last_step = min(steps) if steps else timedelta(0)
    return Q(status__in=ACTIVE_STATUSES, due_at__gt=now, due_at__lte=now + last_step)


class CommitmentFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        # A plain column: no join can repeat a row, so no DISTINCT (which sorts every column).
        choices=Status.choices,
        distinct=False,
        help_text="One or more statuses (repeat the parameter).",
    )
    owner = IdFilter(field_name="owner__id", help_text="Owner's user id.")
    assignee = IdFilter(field_name="assignee__id", help_text="Assignee's user id.")
    team = IdFilter(field_name="team__id", help_text="Team id.")
    overdue = FlagFilter(
        method="filter_overdue", help_text="true: still owed and past its due time (missed ones included)."
    )
    at_risk = FlagFilter(
        method="filter_at_risk",
        help_text="true: still owed, not yet due, due within the last FOLLOWTHROUGH_ESCALATE_BEFORE step.",
    )
    customer = django_filters.CharFilter(
        method="filter_customer", max_length=254, help_text="The customer's exact email or phone (normalized)."
    )
    q = django_filters.CharFilter(
        method="filter_text",
        max_length=200,
        help_text="Words in the summary, details, customer name, email, phone or external reference.",
    )
    external_ref = django_filters.CharFilter(max_length=200, help_text="Exact ticket or case number elsewhere.")
    due_before = UtcDateTimeFilter(
        field_name="due_at", lookup_expr="lt", help_text="Due strictly before this time (ISO 8601)."
    )
    due_after = UtcDateTimeFilter(
        field_name="due_at", lookup_expr="gte", help_text="Due at or after this time (ISO 8601)."
    )

    class Meta:
        model = Commitment
        fields = ["status", "owner", "assignee", "team", "external_ref"]

    def filter_overdue(self, queryset: QuerySet[Commitment], name: str, value: bool) -> QuerySet[Commitment]:
        return self._flag(queryset, overdue_q(timezone.now()), value)

    def filter_at_risk(self, queryset: QuerySet[Commitment], name: str, value: bool) -> QuerySet[Commitment]:
        return self._flag(queryset, at_risk_q(timezone.now()), value)

    def filter_customer(self, queryset: QuerySet[Commitment], name: str, value: str) -> QuerySet[Commitment]:
        value = value.strip()
        if not value:
            return queryset
        if "@" in value:
            return queryset.filter(customer__email=normalize_email(value))
        try:
            phone = normalize_phone(value)
        except ValueError:
            return queryset.none()  # Not an email and not a phone number: no customer has it.
        return queryset.filter(customer__phone=phone)

    def filter_text(self, queryset: QuerySet[Commitment], name: str, value: str) -> QuerySet[Commitment]:
        value = value.strip()
        if not value:
            return queryset
        return matching_text(queryset, value)

    @staticmethod
    def _flag(queryset: QuerySet[Commitment], condition: Q, value: bool | None) -> QuerySet[Commitment]:
        if value is None:
            return queryset
        return queryset.filter(condition) if value else queryset.exclude(condition)
