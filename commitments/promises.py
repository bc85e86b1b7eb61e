"""Honest promises: the time to promise the customer, learned from how the owner's targets held.

Under-promise, over-deliver: an agent says when they expect to be done (their own target); the
customer is promised that time plus a buffer. The buffer comes from the owner's history: how late
their past work finished against their own targets. With too little history, the team's default
buffer stands. Here too: how often an owner's promises to customers held, for the dashboard.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from accounts.models import Team, User
from commitments.models import Commitment, Status

# The share of past targets the buffer should have covered: most promises hold, without padding
# every one for the single worst week.
COVERED_SHARE = 0.8
# Fewer finished targets than this is no history yet: the team's default buffer stands.
MIN_HISTORY = 3
# The most recent finished targets looked at: how the owner works now, not two years ago.
HISTORY_LIMIT = 50
# Promised times are rounded up to the quarter hour: "by 4:15 PM", not "by 4:07 PM".
ROUND_TO = timedelta(minutes=15)
FALLBACK_BUFFER = timedelta(hours=4)

FINISHED = (Status.FULFILLED, Status.CONFIRMED)


@dataclass(frozen=True)
class PromiseProposal:
    target_at: datetime
    promised_at: datetime
    buffer: timedelta
    history: int  # finished targets the buffer was learned from (0: the team's default)
    explanation: str

    @property
    def buffer_words(self) -> str:
        return _words(self.buffer)


def slips_past_target(*, owner: User, limit: int = HISTORY_LIMIT) -> list[timedelta]:
    """How late (or, negative, how early) the owner's most recent finished work was against their own target."""
    rows = (
        Commitment.objects.filter(owner=owner, status__in=FINISHED, target_at__isnull=False, fulfilled_at__isnull=False)
        .order_by("-fulfilled_at")
        .values_list("fulfilled_at", "target_at")[:limit]
    )
    return [fulfilled - target for fulfilled, target in rows if fulfilled is not None and target is not None]


def buffer_from_history(slips: list[timedelta]) -> timedelta:
    """The lateness that ``COVERED_SHARE`` of the past slips stayed within (never negative)."""
    late = sorted(max(slip, timedelta(0)) for slip in slips)
    index = max(0, math.ceil(COVERED_SHARE * len(late)) - 1)
    return late[index]


def _round_up(moment: datetime) -> datetime:
    step = int(ROUND_TO.total_seconds())
    seconds = int(moment.timestamp())
    extra = -seconds % step
    return (moment + timedelta(seconds=extra)).replace(microsecond=0) if extra or moment.microsecond else moment


def team_default_buffer(*, owner: User, team: Team | None) -> timedelta:
    if team is None:
        teams = list(Team.objects.filter(memberships__user=owner)[:2])
        team = teams[0] if len(teams) == 1 else None
    return team.default_promise_buffer if team is not None else FALLBACK_BUFFER


def propose_promise(
    *, owner: User, team: Team | None, target_at: datetime, now: datetime, slips: list[timedelta] | None = None
) -> PromiseProposal:
    """The time to promise the customer for the owner's own ``target_at``, and why, in one line."""
    history = slips_past_target(owner=owner) if slips is None else slips
    name = owner.get_full_name() or owner.get_username()
    if len(history) >= MIN_HISTORY:
        buffer = buffer_from_history(history)
        late = sum(1 for slip in history if slip > timedelta(0))
        typical = max(median(history), timedelta(0))
        if buffer == timedelta(0):
            explanation = (
                f"{name} finished all of the last {len(history)} jobs by the target: promise the target itself."
            )
        else:
            explanation = (
                f"{name} finished {late} of the last {len(history)} jobs after the target "
                f"(median {_words(typical)} late): a buffer of {_words(buffer)} covers "
                f"{round(COVERED_SHARE * 100)}% of them."
            )
    else:
        buffer = team_default_buffer(owner=owner, team=team)
        explanation = (
            f"Not enough history for {name} yet ({len(history)} finished targets): "
            f"the team's default buffer of {_words(buffer)}."
        )
    promised = _round_up(max(target_at + buffer, now))
    return PromiseProposal(
        target_at=target_at, promised_at=promised, buffer=buffer, history=len(history), explanation=explanation
    )


def median(values: list[timedelta]) -> timedelta:
    """The middle value (the mean of the two middle ones for an even count)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _words(value: timedelta) -> str:
    from notifications.time_words import describe_duration

    return describe_duration(value)
