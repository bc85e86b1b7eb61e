from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db import models

from accounts.models import Holiday, Membership, Team, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


# Settings a new team may leave empty: it then gets the product's defaults.
DEFAULTED_TEAM_SETTINGS = ("upset_update_interval", "default_promise_buffer")


class TeamAdminForm(forms.ModelForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in DEFAULTED_TEAM_SETTINGS:
            self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        for name in DEFAULTED_TEAM_SETTINGS:
            if cleaned.get(name) is None:
                field = Team._meta.get_field(name)
                assert isinstance(field, models.Field)
                cleaned[name] = field.get_default()
        return cleaned


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamAdminForm
    list_display = ["name", "timezone", "workday_starts", "workday_ends", "working_days"]
    search_fields = ["name"]
    inlines = [MembershipInline, HolidayInline]


class UserMembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["team"]


@admin.register(User)
class FollowthroughUserAdmin(UserAdmin):
    inlines = [UserMembershipInline]
    list_display = ["username", "first_name", "last_name", "email", "is_staff"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role"]
    list_filter = ["role", "team"]
    autocomplete_fields = ["user", "team"]
