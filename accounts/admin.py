from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import Holiday, Membership, Team, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
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
