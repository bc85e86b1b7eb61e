"""Time rules of the follow-through engine: the escalation ladder and staff working hours."""

from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import Team
from commitments.models import Commitment


def escalation_steps() -> list[timedelta]:
    """FOLLOWTHROUGH_ESCALATE_BEFORE, longest first: ``[24h, 4h]`` by default."""
    return list(settings.FOLLOWTHROUGH_ESCALATE_BEFORE)


def latest_working_moment(team: Team, moment: datetime) -> datetime:
    """``moment`` if it falls in the team's working hours, else the last working minute before it.

    Staff warnings move earlier, never later, so nobody learns of a problem after it happened.
    """
    zone = team.zone
    local = timezone.localtime(moment, zone)
    holidays = set(team.holidays.values_list("date", flat=True))
    weekdays = team.working_weekdays

    def is_working(day: date) -> bool:
        return day.isoweekday() in weekdays and day not in holidays

    if is_working(local.date()) and team.workday_starts <= local.time() < team.workday_ends:
        return moment
    day = local.date()
    if local.time() < team.workday_starts:
        day -= timedelta(days=1)
    for _ in range(366):
        if is_working(day):
            last_minute = datetime.combine(day, team.workday_ends, tzinfo=zone) - timedelta(minutes=1)
            return last_minute.astimezone(UTC)
        day -= timedelta(days=1)
    return moment  # A team with no working day at all: do not hold warnings back.


def plan_escalations(commitment: Commitment, *, now: datetime) -> None:
    """Set the ladder for a fresh due time: steps already behind ``now`` are skipped.

    A step whose moment lies ahead but whose working-hours moment has passed goes out at once.
    The caller saves.
    """
    steps = escalation_steps()
    commitment.escalations_sent = sum(1 for step in steps if commitment.due_at - step <= now)
    commitment.next_escalation_at = next_escalation_time(commitment, now=now)


def next_escalation_time(commitment: Commitment, *, now: datetime) -> datetime | None:
    """When the next before-due warning is due, or ``None`` when the ladder is done."""
    steps = escalation_steps()
    if commitment.escalations_sent >= len(steps):
        return None
    nominal = commitment.due_at - steps[commitment.escalations_sent]
    return max(latest_working_moment(commitment.team, nominal), now)


def is_last_step(step_index: int) -> bool:
    return step_index == len(escalation_steps()) - 1


def working_hours_label(team: Team) -> str:
    start: time = team.workday_starts
    end: time = team.workday_ends
    return f"{start:%H:%M}–{end:%H:%M} {team.timezone}"
