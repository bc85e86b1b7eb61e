"""Time rules of the follow-through engine: the escalation ladder and staff working hours.

Staff warnings fall in the team's working hours (its zone, working days and holidays). One that
would land outside them moves earlier, never later: nobody should learn of a problem on Monday
morning that they could have acted on on Friday afternoon.
"""

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings

from accounts.models import Holiday, Team
from commitments.models import Commitment

# The latest working moment is one minute before the working day ends, so a warning moved there
# still reaches people at their desks.
END_OF_DAY_MARGIN = timedelta(minutes=1)
# How far to look for a working day (a team whose every day is a holiday has none).
SEARCH_DAYS = 400


@dataclass(frozen=True)
class WorkingHours:
    """A team's working time: weekdays and hours in its zone, less its holidays."""

    zone: zoneinfo.ZoneInfo
    starts: time
    ends: time
    weekdays: frozenset[int]
    holidays: frozenset[date]

    @classmethod
    def of(cls, team: Team, holidays: Iterable[date] | None = None) -> "WorkingHours":
        """Read from the team (one query for its holidays unless they are given)."""
        if holidays is None:
            holidays = team.holidays.values_list("date", flat=True)
        return cls(
            zone=team.zone,
            starts=team.workday_starts,
            ends=team.workday_ends,
            weekdays=frozenset(team.working_weekdays),
            holidays=frozenset(holidays),
        )

    def is_working_day(self, day: date) -> bool:
        return day.isoweekday() in self.weekdays and day not in self.holidays

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        return self.is_working_day(local.date()) and self.starts <= local.time() < self.ends

    def latest_working_moment(self, moment: datetime) -> datetime:
        """``moment`` if it falls in working hours, else the last working minute before it."""
        if self.contains(moment):
            return moment
        local = moment.astimezone(self.zone)
        day = local.date()
        if local.time() < self.starts:
            day -= timedelta(days=1)
        for _ in range(SEARCH_DAYS):
            if self.is_working_day(day):
                last_minute = datetime.combine(day, self.ends, tzinfo=self.zone) - END_OF_DAY_MARGIN
                return min(last_minute.astimezone(UTC), moment)
            day -= timedelta(days=1)
        return moment  # No working day at all: do not hold warnings back.

    def next_working_start(self, moment: datetime) -> datetime:
        """``moment`` if it falls in working hours, else when the next working day starts."""
        if self.contains(moment):
            return moment
        local = moment.astimezone(self.zone)
        day = local.date()
        if local.time() >= self.starts:
            day += timedelta(days=1)
        for _ in range(SEARCH_DAYS):
            if self.is_working_day(day):
                return datetime.combine(day, self.starts, tzinfo=self.zone).astimezone(UTC)
            day += timedelta(days=1)
        return moment


def working_hours_of(teams: Iterable[Team]) -> dict[int, WorkingHours]:
    """Working hours for several teams at once: one query for all their holidays."""
    by_id: dict[int, Team] = {team.pk: team for team in teams}
    holidays: dict[int, set[date]] = {pk: set() for pk in by_id}
    for team_id, day in Holiday.objects.filter(team_id__in=list(by_id)).values_list("team_id", "date"):
        holidays[team_id].add(day)
    return {pk: WorkingHours.of(team, holidays[pk]) for pk, team in by_id.items()}


def escalation_steps() -> list[timedelta]:
    """FOLLOWTHROUGH_ESCALATE_BEFORE, longest first: ``[24h, 4h]`` by default."""
    return sorted(settings.FOLLOWTHROUGH_ESCALATE_BEFORE, reverse=True)


def plan_escalations(commitment: Commitment, *, now: datetime, hours: WorkingHours | None = None) -> None:
    """Set the ladder for a fresh due time: steps already behind ``now`` are skipped.

    A step whose moment lies ahead but whose working-hours moment has passed goes out at once.
    The caller saves.
    """
    steps = escalation_steps()
    commitment.escalations_sent = sum(1 for step in steps if commitment.due_at - step <= now)
    commitment.next_escalation_at = next_escalation_time(commitment, now=now, hours=hours)


def next_escalation_time(
    commitment: Commitment, *, now: datetime, hours: WorkingHours | None = None
) -> datetime | None:
    """When the next before-due warning is due, or ``None`` when the ladder is done."""
    steps = escalation_steps()
    if commitment.escalations_sent >= len(steps):
        return None
    nominal = commitment.due_at - steps[commitment.escalations_sent]
    if nominal >= commitment.due_at:  # A zero step is the due time itself: the missed sweep owns it.
        return None
    hours = hours or WorkingHours.of(commitment.team)
    return max(hours.latest_working_moment(nominal), now)


def next_missed_reminder(commitment: Commitment, *, after: datetime, hours: WorkingHours | None = None) -> datetime:
    """When owner and lead are next reminded of a missed commitment: one update interval on.

    A reminder that would fall outside working hours moves earlier; when that would put it at or
    before the reminder just sent (a night, a weekend), it stays where it is: never later.
    """
    hours = hours or WorkingHours.of(commitment.team)
    nominal = after + commitment.update_interval
    moved = hours.latest_working_moment(nominal)
    return moved if moved > after else nominal


def call_task_escalation_time(created_at: datetime, interval: timedelta, hours: WorkingHours) -> datetime:
    """When an undone call task is escalated: one update interval after it was set.

    Moved earlier into working hours, but never to before the task existed: then it stays put.
    """
    nominal = created_at + interval
    moved = hours.latest_working_moment(nominal)
    return moved if moved > created_at else nominal
