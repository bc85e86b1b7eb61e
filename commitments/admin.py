"""Operators look up customers and commitments here; the lifecycle itself moves only through the pages and API.

A commitment is read-only in the admin: a change made here would skip its timeline and its
messages. A customer's contact details are corrected through ``services.edit_customer``, so the
same checks apply and each open commitment records the change.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin_scoping import TeamScopedAdminMixin
from commitments import services
from commitments.errors import InvalidInput, NotAllowed
from commitments.models import Commitment, Customer, GlossaryTerm, TimelineEvent


class ReadOnlyAdminMixin:
    """Nothing added, changed or deleted by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TimelineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TimelineEvent
    fields = readonly_fields = ("created_at", "kind", "actor_name", "message", "data")
    ordering = ["created_at", "pk"]
    extra = 0
    show_change_link = True

    @admin.display(description="By")
    def actor_name(self, event: TimelineEvent) -> str:
        return event.actor_name


class CommitmentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Commitment
    fields = readonly_fields = ("summary", "status", "team", "owner", "due_at")
    extra = 0
    show_change_link = True


class CustomerAdminForm(forms.ModelForm):
    """The same checks as everywhere else: normalized email and phone, a contact for the channel.

    Every refusal the service would make is found here, so the admin shows it on the form
    instead of failing the save.
    """

    actor: Any = None  # Set by CustomerAdmin.get_form: the staff user saving.

    class Meta:
        model = Customer
        fields = ["name", "email", "phone", "preferred_channel", "timezone", "notes"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.actor is not None and self.instance.pk:
            try:
                services.ensure_can_edit_customer(self.actor, self.instance)
            except NotAllowed as refusal:
                raise forms.ValidationError(str(refusal)) from refusal
        details = services.CustomerDetails(
            name=data.get("name") or "",
            email=data.get("email") or "",
            phone=data.get("phone") or "",
            preferred_channel=data.get("preferred_channel") or "",
            timezone=data.get("timezone") or "",
        )
        try:
            cleaned = services.clean_customer_details(details)
        except InvalidInput as error:
            for field, problems in error.errors.items():
                for problem in problems:
                    self.add_error(field if field in self.fields else None, problem)
            return data
        data.update(email=cleaned.email, phone=cleaned.phone, name=cleaned.name, timezone=cleaned.timezone)
        if self.instance.pk:
            taken = services.contact_taken_in_team(self.instance, email=cleaned.email, phone=cleaned.phone)
            for field in ("email", "phone"):
                if taken[field]:
                    self.add_error(field, f"This {field} belongs to another of the team's customers.")
        return data


@admin.register(Customer)
class CustomerAdmin(TeamScopedAdminMixin, admin.ModelAdmin):
    form = CustomerAdminForm
    list_display = ["name", "team", "email", "phone", "preferred_channel", "timezone", "sms_opted_out", "created_at"]
    list_filter = ["preferred_channel", "sms_opted_out", "email_updates_opted_out"]
    search_fields = ["name", "email", "phone"]
    list_select_related = ["team"]
    fields = [
        "team",
        "name",
        "email",
        "phone",
        "preferred_channel",
        "timezone",
        "notes",
        "sms_opted_out",
        "email_updates_opted_out",
        "created_at",
    ]
    # Opt-outs are the customer's own choice (STOP, the unsubscribe link): shown, never overridden here.
    readonly_fields = ["team", "sms_opted_out", "email_updates_opted_out", "created_at"]
    inlines = [CommitmentInline]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user  # type: ignore[attr-defined]
        return form

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # Customers come with the promise made to them.

    def has_delete_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        details = services.CustomerDetails(
            name=obj.name,
            email=obj.email,
            phone=obj.phone,
            preferred_channel=obj.preferred_channel,
            timezone=obj.timezone,
        )
        # Through the service, so each of their open commitments records the change. The form
        # already ran its checks; a refusal left (a race with another save) is shown, never a 500.
        try:
            services.edit_customer(actor=request.user, customer=obj, details=details, notes=obj.notes)  # type: ignore[arg-type]
        except (InvalidInput, NotAllowed) as refusal:
            self.message_user(request, f"Not saved: {refusal}", level=messages.ERROR)
        obj.refresh_from_db()


@admin.register(Commitment)
class CommitmentAdmin(TeamScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "summary", "customer", "team", "owner", "assignee", "status", "due_at", "next_update_at"]
    list_filter = ["status", "team"]
    search_fields = ["summary", "external_ref", "customer__name", "customer__email", "customer__phone"]
    list_select_related = ["customer", "team", "owner", "assignee"]
    date_hierarchy = "due_at"
    fields = readonly_fields = (
        "customer",
        "team",
        "owner",
        "assignee",
        "created_by",
        "summary",
        "details",
        "external_ref",
        "status",
        "due_at",
        "target_at",
        "temperature",
        "update_interval",
        "last_update_at",
        "next_update_at",
        "escalations_sent",
        "next_escalation_at",
        "paused_at",
        "waiting_request",
        "missed_at",
        "fulfilled_at",
        "resolution",
        "satisfaction_due_at",
        "confirmed_at",
        "cancelled_at",
        "created_at",
        "updated_at",
    )
    inlines = [TimelineInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Commitment]:
        return super().get_queryset(request).select_related("customer", "team", "owner", "assignee")


@admin.register(TimelineEvent)
class TimelineEventAdmin(TeamScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    team_lookup = "commitment__team"
    list_display = ["created_at", "commitment", "kind", "actor_name", "message"]
    list_filter = ["kind"]
    search_fields = ["message", "commitment__summary"]
    list_select_related = ["commitment", "actor"]
    fields = readonly_fields = ("commitment", "kind", "actor", "actor_label", "message", "data", "created_at")

    @admin.display(description="By")
    def actor_name(self, event: TimelineEvent) -> str:
        return event.actor_name


@admin.register(GlossaryTerm)
class GlossaryTermAdmin(admin.ModelAdmin):
    """Leads edit the glossary in the app (Team > Glossary); operators can here too."""

    list_display = ["term", "plain", "team"]
    list_filter = ["team"]
    search_fields = ["term", "plain"]
