"""Operators manage staff in the admin: teams with a time zone, working hours, holidays and members."""

from datetime import time

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Membership, Team, User
from tests.factories import PASSWORD, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    user = User.objects.create_superuser("operator", "operator@example.com", PASSWORD)
    client.force_login(user)
    return user


def test_an_operator_creates_a_team_with_members_and_roles_in_the_admin(client, operator):
    # Given two people on staff
    alex, lee = UserFactory.create(username="alex"), UserFactory.create(username="lee")

    # When the operator adds a team with Alex as agent and Lee as lead
    response = client.post(
        "/admin/accounts/team/add/",
        {
            "name": "Home Repairs",
            "timezone": "Europe/Paris",
            "workday_starts": "08:30",
            "workday_ends": "18:00",
            "working_days": "1,2,3,4,5",
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-user": alex.pk,
            "memberships-0-role": "agent",
            "memberships-1-user": lee.pk,
            "memberships-1-role": "lead",
            "holidays-TOTAL_FORMS": "1",
            "holidays-INITIAL_FORMS": "0",
            "holidays-0-date": "2026-12-25",
            "holidays-0-name": "Christmas Day",
        },
    )

    # Then the team exists with its hours, holiday and both members in their roles
    assert response.status_code == 302, response.content.decode()[:2000]
    team = Team.objects.get(name="Home Repairs")
    assert (team.timezone, team.workday_starts, team.workday_ends) == ("Europe/Paris", time(8, 30), time(18, 0))
    assert dict(team.memberships.values_list("user__username", "role")) == {"alex": "agent", "lee": "lead"}
    assert team.holidays.get().name == "Christmas Day"


def test_the_admin_refuses_an_unknown_time_zone_and_a_working_day_that_ends_before_it_starts(client, operator):
    response = client.post(
        "/admin/accounts/team/add/",
        {
            "name": "Night shift",
            "timezone": "Mars/Olympus",
            "workday_starts": "18:00",
            "workday_ends": "09:00",
            "working_days": "1,2,9",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "holidays-TOTAL_FORMS": "0",
            "holidays-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "is not a known time zone" in page
    assert "1 = Monday" in page
    assert not Team.objects.filter(name="Night shift").exists()


def test_a_person_has_one_role_per_team():
    team, user = TeamFactory.create(), UserFactory.create()
    Membership.objects.create(team=team, user=user, role="agent")
    with pytest.raises(ValidationError):
        Membership(team=team, user=user, role="lead").full_clean()


def test_working_hours_end_after_they_start():
    team = TeamFactory.build(workday_starts=time(17, 0), workday_ends=time(9, 0))
    with pytest.raises(ValidationError, match="must end after it starts"):
        team.full_clean()


def test_the_admin_pages_for_staff_open(client, operator):
    for url in ("/admin/", "/admin/accounts/team/", "/admin/accounts/user/", "/admin/accounts/membership/"):
        assert client.get(url).status_code == 200, url
