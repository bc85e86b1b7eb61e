"""The time rules: the escalation ladder and staff working hours (commitments/schedule.py).

A team in New York works 09:00-17:00, Monday to Friday. Staff warnings that would land outside
those hours move earlier, never later.
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from accounts.models import Holiday, Team
from commitments.models import Commitment
from commitments.schedule import (
    WorkingHours,
    call_task_escalation_time,
    escalation_steps,
    next_escalation_time,
    next_missed_reminder,
    plan_escalations,
    working_hours_of,
)

pytestmark = pytest.mark.django_db


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def office():
    """Home Repairs in New York, 09:00-17:00 on weekdays (EST is UTC-5 in winter)."""
    return Team.objects.create(
        name="Office hours",
        timezone="America/New_York",
        workday_starts=time(9),
        workday_ends=time(17),
        working_days="1,2,3,4,5",
    )


def promise(team, *, due_at: datetime, interval: timedelta = timedelta(hours=24)) -> Commitment:
    """An unsaved commitment: the schedule only reads its times and its team."""
    return Commitment(team=team, due_at=due_at, update_interval=interval)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # Wednesday 25 November 2026, 11:00 EST: inside working hours, unchanged.
        (utc(2026, 11, 25, 16), utc(2026, 11, 25, 16)),
        # Wednesday 07:00 EST, before the day starts: Tuesday's last working minute, 16:59 EST.
        (utc(2026, 11, 25, 12), utc(2026, 11, 24, 21, 59)),
        # Wednesday 19:00 EST, after the day ends: the same day's last working minute.
        (utc(2026, 11, 26, 0), utc(2026, 11, 25, 21, 59)),
        # Sunday 29 November, 10:00 EST: Friday 16:59.
        (utc(2026, 11, 29, 15), utc(2026, 11, 27, 21, 59)),
        # Monday 30 November, 08:00 EST: Friday 16:59.
        (utc(2026, 11, 30, 13), utc(2026, 11, 27, 21, 59)),
        # Exactly 17:00 is after work; exactly 09:00 is at work.
        (utc(2026, 11, 25, 22), utc(2026, 11, 25, 21, 59)),
        (utc(2026, 11, 25, 14), utc(2026, 11, 25, 14)),
    ],
)
def test_a_moment_outside_working_hours_moves_to_the_last_working_minute_before_it(office, moment, expected):
    assert WorkingHours.of(office).latest_working_moment(moment) == expected


def test_a_holiday_is_not_a_working_day(office):
    # Given Thanksgiving, Thursday 26 November 2026, is a holiday
    Holiday.objects.create(team=office, date=date(2026, 11, 26), name="Thanksgiving")

    # When a warning would land at 11:00 on Thanksgiving
    moved = WorkingHours.of(office).latest_working_moment(utc(2026, 11, 26, 16))

    # Then it goes on Wednesday at 16:59
    assert moved == utc(2026, 11, 25, 21, 59)


def test_working_hours_follow_the_teams_zone_across_a_daylight_saving_change(office):
    # Sunday 8 March 2026 New York springs forward: Monday 9 March 08:00 EDT is 12:00 UTC, and the
    # Friday before ends at 16:59 EST, 21:59 UTC.
    assert WorkingHours.of(office).latest_working_moment(utc(2026, 3, 9, 12)) == utc(2026, 3, 6, 21, 59)
    # Monday 9 March 16:00 EDT (20:00 UTC) is inside working hours.
    assert WorkingHours.of(office).latest_working_moment(utc(2026, 3, 9, 20)) == utc(2026, 3, 9, 20)


def test_a_team_with_no_working_day_holds_nothing_back(office):
    hours = WorkingHours.of(office, holidays=[])
    hours = WorkingHours(hours.zone, hours.starts, hours.ends, frozenset(), frozenset())
    assert hours.latest_working_moment(utc(2026, 11, 29, 15)) == utc(2026, 11, 29, 15)


def test_working_hours_of_several_teams_read_their_holidays_in_one_query(office, django_assert_num_queries):
    other = Team.objects.create(name="Billing")
    Holiday.objects.create(team=office, date=date(2026, 12, 25))
    with django_assert_num_queries(1):
        hours = working_hours_of([office, other])
    assert hours[office.pk].holidays == {date(2026, 12, 25)} and hours[other.pk].holidays == frozenset()


# --- The ladder -----------------------------------------------------------------------------


def test_the_steps_come_longest_first(settings):
    settings.FOLLOWTHROUGH_ESCALATE_BEFORE = [timedelta(hours=4), timedelta(hours=24)]
    assert escalation_steps() == [timedelta(hours=24), timedelta(hours=4)]


def test_a_fresh_promise_plans_its_first_warning_one_step_before_due(office):
    # Given a promise made Monday 23 November 10:00 EST, due Wednesday 15:00 EST
    commitment = promise(office, due_at=utc(2026, 11, 25, 20))

    # When its ladder is planned
    plan_escalations(commitment, now=utc(2026, 11, 23, 15))

    # Then the first warning comes 24 hours before due, inside working hours
    assert commitment.escalations_sent == 0
    assert commitment.next_escalation_at == utc(2026, 11, 24, 20)


def test_steps_already_behind_are_skipped(office):
    # Given a promise due in three hours: both the 24h and the 4h steps are behind
    commitment = promise(office, due_at=utc(2026, 11, 25, 20))
    plan_escalations(commitment, now=utc(2026, 11, 25, 17))
    assert (commitment.escalations_sent, commitment.next_escalation_at) == (2, None)

    # and a promise due in ten hours has only the 4h step ahead
    commitment = promise(office, due_at=utc(2026, 11, 25, 20))
    plan_escalations(commitment, now=utc(2026, 11, 25, 10))
    assert (commitment.escalations_sent, commitment.next_escalation_at) == (1, utc(2026, 11, 25, 16))


def test_a_warning_that_would_land_on_the_weekend_moves_to_friday_afternoon(office):
    # Given a promise due Monday 30 November 10:00 EST: 24h before is Sunday 10:00
    commitment = promise(office, due_at=utc(2026, 11, 30, 15))

    # When the ladder is planned on Thursday
    plan_escalations(commitment, now=utc(2026, 11, 26, 15))

    # Then the first warning goes on Friday at 16:59, earlier, never later
    assert commitment.next_escalation_at == utc(2026, 11, 27, 21, 59)

    # and after it, the 4h step (Monday 06:00) also moves to Friday 16:59, which is then now
    commitment.escalations_sent = 1
    assert next_escalation_time(commitment, now=utc(2026, 11, 27, 21, 59)) == utc(2026, 11, 27, 21, 59)


def test_a_warning_whose_working_moment_has_passed_goes_at_once(office):
    # Given it is Saturday and the promise is due Monday 10:00: the warnings' working moment was Friday
    commitment = promise(office, due_at=utc(2026, 11, 30, 15))
    plan_escalations(commitment, now=utc(2026, 11, 28, 15))
    assert commitment.next_escalation_at == utc(2026, 11, 28, 15)


# --- Missed reminders and call tasks --------------------------------------------------------


def test_missed_reminders_come_every_interval_moved_earlier_never_later(office):
    commitment = promise(office, due_at=utc(2026, 11, 25, 15))
    # Missed on Thursday 10:00 EST: the next reminder is Friday 10:00
    assert next_missed_reminder(commitment, after=utc(2026, 11, 26, 15)) == utc(2026, 11, 27, 15)
    # Sent Friday 10:00: Saturday 10:00 moves earlier, to Friday 16:59
    assert next_missed_reminder(commitment, after=utc(2026, 11, 27, 15)) == utc(2026, 11, 27, 21, 59)
    # Sent Friday 16:59: moving Saturday's earlier would land on the one just sent, so it stays on
    # Saturday 16:59: a missed promise is never left unmentioned for longer than an interval.
    assert next_missed_reminder(commitment, after=utc(2026, 11, 27, 21, 59)) == utc(2026, 11, 28, 21, 59)


def test_missed_reminders_at_a_short_interval_stay_within_the_working_day_when_they_can(office):
    commitment = promise(office, due_at=utc(2026, 11, 25, 15), interval=timedelta(hours=2))
    # 16:30 EST + 2h = 18:30: moves to 16:59
    assert next_missed_reminder(commitment, after=utc(2026, 11, 25, 21, 30)) == utc(2026, 11, 25, 21, 59)
    # 16:59 + 2h lands after work, and earlier would be the one just sent: 18:59 it is
    assert next_missed_reminder(commitment, after=utc(2026, 11, 25, 21, 59)) == utc(2026, 11, 25, 23, 59)


def test_an_undone_call_task_escalates_one_interval_later_moved_into_working_hours(office):
    hours = WorkingHours.of(office)
    # Set Wednesday 11:00 EST: escalates Thursday 11:00
    assert call_task_escalation_time(utc(2026, 11, 25, 16), timedelta(hours=24), hours) == utc(2026, 11, 26, 16)
    # Set Thursday 20:00 EST: Friday 20:00 moves to Friday 16:59
    assert call_task_escalation_time(utc(2026, 11, 27, 1), timedelta(hours=24), hours) == utc(2026, 11, 27, 21, 59)
    # Set Friday 18:00 EST: Saturday 18:00 would move to before the task existed, so it stays
    assert call_task_escalation_time(utc(2026, 11, 27, 23), timedelta(hours=24), hours) == utc(2026, 11, 28, 23)
