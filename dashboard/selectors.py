"""The lead's dashboard: what needs attention now, the team's figures, and the weekly trends.

Every figure is an aggregate the database computes over the commitments of a scope (a team, an
owner, a channel) created in a period: a few grouped queries whatever the number of commitments,
never a loop over rows in Python. The "now" lists are bounded reads over the same indexes the
sweeps use. Definitions, in the product's words, are in ``FIGURES`` and shown beside each figure.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from accounts.models import Membership, Team, User
from commitments.models import ACTIVE_STATUSES, Channel, Commitment, Status, TimelineEvent
from commitments.replies import unanswered_replies
from dashboard.aggregates import Median
from notifications.models import DeliveryStatus, MessageKind, Notification

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
TREND_WEEKS = 12
# A "now" list shows this many rows on the page (by owner, the most urgent first); its CSV has them all.
# Each row costs about a millisecond to draw: ten keep the page quick and still answer "who, what".
LIST_LIMIT = 10

# Timeline events that are a message to the customer (each resets the update clock).
CUSTOMER_MESSAGE_KINDS = (
    TimelineEvent.Kind.CREATED,
    TimelineEvent.Kind.UPDATE_SENT,
    TimelineEvent.Kind.RESCHEDULED,
    TimelineEvent.Kind.WAITING,
    TimelineEvent.Kind.RESUMED,
    TimelineEvent.Kind.MISSED,
)
# Timeline events that say the customer chased us or the commitment was reopened.
SIGNAL_KINDS = (TimelineEvent.Kind.CHASED, TimelineEvent.Kind.REOPENED)


@dataclass(frozen=True)
class FigureDefinition:
    key: str
    label: str
    definition: str
    kind: str  # "rate", "count" or "duration"
    good: str = "high"  # which way is better: "high" or "low"


FIGURES = [
    FigureDefinition(
        "on_time_rate",
        "Fulfilled on time",
        "Fulfilled by the due time (as rescheduled), out of those fulfilled or missed.",
        "rate",
    ),
    FigureDefinition(
        "updates_on_time_rate",
        "Updates on time",
        "Status updates sent within their update interval (plus one sweep) of the customer's last "
        "message from us, out of every update due, including those still unsent.",
        "rate",
    ),
    FigureDefinition(
        "chased_rate",
        "Customer chased us",
        "Commitments whose customer had to contact us first, out of all. The number to drive to zero.",
        "rate",
        good="low",
    ),
    FigureDefinition(
        "satisfaction_rate",
        "Satisfaction confirmed",
        "Customers who said “yes, it's resolved”, out of those who answered the satisfaction check.",
        "rate",
    ),
    FigureDefinition(
        "reopened_rate",
        "Reopened",
        "Commitments reopened after fulfilment (by the customer or by us), out of those fulfilled.",
        "rate",
        good="low",
    ),
    FigureDefinition(
        "missed", "Missed", "Commitments now missed: past their due time, not fulfilled.", "count", good="low"
    ),
    FigureDefinition(
        "promise_held_rate",
        "Promise accuracy",
        "How often the first time promised to the customer held: fulfilled by it, out of those "
        "fulfilled or missed. Rescheduling does not move this target.",
        "rate",
    ),
    FigureDefinition(
        "median_slip",
        "Median slip",
        "When the first promised time did not hold: the median time from it to fulfilment.",
        "duration",
        good="low",
    ),
]
FIGURES_BY_KEY = {figure.key: figure for figure in FIGURES}


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Figures:
    """The counts a team's (or an owner's) figures are made of, and the rates drawn from them."""

    total: int = 0
    open: int = 0
    overdue: int = 0
    missed: int = 0
    at_risk: int = 0
    fulfilled: int = 0
    fulfilled_on_time: int = 0
    chased: int = 0
    reopened: int = 0
    confirmed: int = 0
    satisfaction_answered: int = 0
    promises_judged: int = 0
    promises_held: int = 0
    updates_sent: int = 0
    updates_sent_on_time: int = 0
    updates_unsent: int = 0
    median_slip: timedelta | None = None

    @property
    def updates_due(self) -> int:
        return self.updates_sent + self.updates_unsent

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.fulfilled_on_time, self.fulfilled + self.missed)

    @property
    def updates_on_time_rate(self) -> float | None:
        return _rate(self.updates_sent_on_time, self.updates_due)

    @property
    def chased_rate(self) -> float | None:
        return _rate(self.chased, self.total)

    @property
    def satisfaction_rate(self) -> float | None:
        return _rate(self.confirmed, self.satisfaction_answered)

    @property
    def reopened_rate(self) -> float | None:
        return _rate(self.reopened, self.fulfilled)

    @property
    def promise_held_rate(self) -> float | None:
        return _rate(self.promises_held, self.promises_judged)

    def value(self, key: str) -> Any:
        return getattr(self, key)


@dataclass
class OwnerFigures:
    owner: User
    figures: Figures


@dataclass
class TeamFigures:
    team: Team
    figures: Figures
    owners: list[OwnerFigures] = field(default_factory=list)


# --- Who sees what ----------------------------------------------------------------------------


@dataclass
class Scope:
    """What one person's dashboard covers: the teams they lead in full, elsewhere their own commitments.

    ``team``, ``owner`` and ``channel`` narrow it further (the page's filters).
    """

    user: User
    teams: list[Team]
    led_team_ids: set[int]
    team: Team | None = None
    owner_id: int | None = None
    channel: str = ""

    @property
    def shown_teams(self) -> list[Team]:
        return [self.team] if self.team else self.teams

    def leads(self, team: Team) -> bool:
        return team.pk in self.led_team_ids

    @property
    def is_lead(self) -> bool:
        return bool(self.led_team_ids)

    def commitments(self) -> QuerySet[Commitment]:
        """The scope's commitments: no join to the teams, so the planner keeps to the team indexes."""
        led = [team.pk for team in self.shown_teams if team.pk in self.led_team_ids]
        own = [team.pk for team in self.shown_teams if team.pk not in self.led_team_ids]
        where = Q(pk__in=[])
        if led:
            where |= Q(team_id__in=led)
        if own:
            where |= Q(team_id__in=own, owner_id=self.user.pk)
        queryset = Commitment.objects.filter(where)
        if self.owner_id:
            queryset = queryset.filter(owner_id=self.owner_id)
        if self.channel:
            queryset = queryset.filter(customer__preferred_channel=self.channel)
        return queryset


def dashboard_scope(
    *, user: User, team_id: int | None = None, owner_id: int | None = None, channel: str = ""
) -> Scope | None:
    """The user's dashboard scope, narrowed to one of their teams, an owner, a channel; None: not their team."""
    if user.is_superuser:
        teams = list(Team.objects.order_by("name"))
        led = {team.pk for team in teams}
    else:
        memberships = list(Membership.objects.filter(user=user).select_related("team").order_by("team__name"))
        teams = [membership.team for membership in memberships]
        led = {membership.team_id for membership in memberships if membership.role == Membership.Role.LEAD}
    team = None
    if team_id is not None:
        team = next((candidate for candidate in teams if candidate.pk == team_id), None)
        if team is None:
            return None
    if channel not in Channel.values:
        channel = ""
    return Scope(user=user, teams=teams, led_team_ids=led, team=team, owner_id=owner_id, channel=channel)


def owner_choices(*, scope: Scope) -> list[User]:
    """The people the owner filter offers: members of the teams the user leads (else only themselves)."""
    led = [team.pk for team in scope.shown_teams if scope.leads(team)]
    if not led:
        return [scope.user]
    return list(
        User.objects.filter(memberships__team_id__in=led).distinct().order_by("first_name", "last_name", "username")
    )


# --- The figures ------------------------------------------------------------------------------


def last_warning_step() -> timedelta:
    """The last (shortest) FOLLOWTHROUGH_ESCALATE_BEFORE step: due within it is "at risk"."""
    steps = list(settings.FOLLOWTHROUGH_ESCALATE_BEFORE)
    return min(steps) if steps else timedelta(0)


def overdue_q(now: datetime) -> Q:
    """Still owed (waiting and missed included) and past its due time, as the API's ``overdue`` filter."""
    return Q(status__in=ACTIVE_STATUSES, due_at__lte=now)


def at_risk_q(now: datetime) -> Q:
    """Still owed, not yet due, and due within the last warning step, as the API's ``at_risk`` filter."""
    return Q(status__in=ACTIVE_STATUSES, due_at__gt=now, due_at__lte=now + last_warning_step())


def _event(kind: str, **more: Any) -> Exists:
    # "Not before the commitment was logged" is always true, and keeps PostgreSQL probing the
    # index for each commitment of the scope: without it, the planner hashes every such event of
    # the whole database, which grows with the organisation instead of the team.
    return Exists(
        TimelineEvent.objects.filter(
            commitment_id=OuterRef("pk"), kind=kind, created_at__gte=OuterRef("created_at"), **more
        )
    )


def promise_conditions() -> tuple[Q, Q, Any]:
    """How well promises hold: the one place that says what a promise is measured against.

    Today that is the first due time given to the customer (``promised_at``; before it was
    recorded, the due time). A promise is judged once fulfilled or missed; it held when the
    fulfilment came by that time; the slip is how late it came when it did not. Returned as
    conditions on one commitment (judged, held) and its slip (NULL where it did not slip).
    """
    promised = Coalesce(F("promised_at"), F("due_at"))
    fulfilled = Q(fulfilled_at__isnull=False) & ~Q(status=Status.CANCELLED)
    late = ExpressionWrapper(F("fulfilled_at") - promised, output_field=DurationField())
    judged = fulfilled | Q(status=Status.MISSED)
    held = fulfilled & Q(fulfilled_at__lte=promised)
    return judged, held, Case(When(fulfilled & Q(fulfilled_at__gt=promised), then=late))


def promise_accuracy() -> dict[str, Any]:
    """The promise figures as aggregates (see ``promise_conditions``)."""
    judged, held, slip = promise_conditions()
    return {
        "promises_judged": Count("pk", filter=judged),
        "promises_held": Count("pk", filter=held),
        "median_slip": Median(slip),
    }


def commitment_conditions(now: datetime) -> dict[str, Q]:
    """Each of the figures' counts as a condition on one commitment: the one definition of each,
    whether the database counts it in a grouped query or in the page's single statement.
    """
    fulfilled = Q(fulfilled_at__isnull=False) & ~Q(status=Status.CANCELLED)
    judged, held, _ = promise_conditions()
    return {
        "open": Q(status__in=ACTIVE_STATUSES),
        "overdue": overdue_q(now),
        "missed": Q(status=Status.MISSED),
        "at_risk": at_risk_q(now),
        "fulfilled": fulfilled,
        "fulfilled_on_time": fulfilled & Q(fulfilled_at__lte=F("due_at")),
        # Whether the customer chased us, and whether it was reopened (by them), from the timeline.
        "chased": Q(_event(TimelineEvent.Kind.CHASED)),
        "reopened": Q(_event(TimelineEvent.Kind.REOPENED)),
        "confirmed": Q(status=Status.CONFIRMED),
        "satisfaction_answered": Q(status=Status.CONFIRMED)
        | Q(_event(TimelineEvent.Kind.REOPENED, actor_label="customer")),
        "updates_unsent": Q(
            status__in=ACTIVE_STATUSES, next_update_at__lte=now - settings.FOLLOWTHROUGH_SWEEP_INTERVAL
        ),
        "promises_judged": judged,
        "promises_held": held,
    }


def _commitment_aggregates(now: datetime) -> dict[str, Any]:
    return {
        "total": Count("pk"),
        **{name: Count("pk", filter=condition) for name, condition in commitment_conditions(now).items()},
        "median_slip": Median(promise_conditions()[2]),
    }


def _status_updates(commitments: QuerySet[Commitment]) -> QuerySet[TimelineEvent]:
    """The status updates sent on these commitments, each with the moment it was due by.

    It was due one update interval (plus one sweep, the engine's granularity) after the message
    to the customer before it.
    """
    previous = (
        TimelineEvent.objects.filter(
            commitment_id=OuterRef("commitment_id"),
            kind__in=CUSTOMER_MESSAGE_KINDS,
            created_at__lt=OuterRef("created_at"),
        )
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    due_by = ExpressionWrapper(
        Subquery(previous, output_field=DateTimeField())
        + F("commitment__update_interval")
        + Value(settings.FOLLOWTHROUGH_SWEEP_INTERVAL),
        output_field=DateTimeField(),
    )
    return TimelineEvent.objects.filter(
        commitment__in=commitments.values("pk"), kind=TimelineEvent.Kind.UPDATE_SENT
    ).annotate(due_by=due_by)


UPDATE_AGGREGATES = {
    "updates_sent": Count("pk"),
    "updates_sent_on_time": Count("pk", filter=Q(created_at__lte=F("due_by"))),
}

# "Updates on time" in one pass over the scope's customer messages: each status update's previous
# message is the latest one strictly before it (a window ending one microsecond, PostgreSQL's
# precision, before the update), not a subquery per update. Same definition as ``_status_updates``.
UPDATE_COUNTS_SQL = """
WITH scoped AS ({commitments})
SELECT {groups}, count(*) AS updates_sent,
       count(*) FILTER (WHERE message.created_at <= message.previous_at + scoped.update_interval + %s)
           AS updates_sent_on_time
FROM (
    SELECT event.commitment_id, event.kind, event.created_at,
           max(event.created_at) OVER (
               PARTITION BY event.commitment_id ORDER BY event.created_at
               RANGE BETWEEN UNBOUNDED PRECEDING AND '1 microsecond' PRECEDING
           ) AS previous_at
    FROM commitments_timelineevent AS event
    WHERE event.commitment_id IN (SELECT scoped.id FROM scoped) AND event.kind IN %s
) AS message
JOIN scoped ON scoped.id = message.commitment_id
WHERE message.kind = %s
GROUP BY {groups}
"""


def update_groups(*, zone: Any = None, period_starts: datetime | None = None) -> Callable[[str], dict[str, Any]]:
    """How ``update_counts`` groups: by team and owner, and by the week the commitment was logged
    (given ``zone``) and whether it was logged in the period (given ``period_starts``).

    The expressions are over a commitment reached through ``prefix`` ("" or "commitment__").
    """

    def groups(prefix: str) -> dict[str, Any]:
        expressions: dict[str, Any] = {"team": F(f"{prefix}team_id"), "owner": F(f"{prefix}owner_id")}
        if zone is not None:
            expressions["week"] = TruncWeek(f"{prefix}created_at", tzinfo=zone)
        if period_starts is not None:
            in_period = Q(**{f"{prefix}created_at__gt": period_starts})
            expressions["in_period"] = Case(When(in_period, then=Value(True)), default=Value(False))
        return expressions

    return groups


def update_counts(commitments: QuerySet[Commitment], groups: Callable[[str], dict[str, Any]]) -> list[dict[str, Any]]:
    """Status updates sent and sent on time on these commitments, grouped by ``groups``: one query,
    whatever the number of updates. Call inside ``_aggregating``.
    """
    if connection.vendor != "postgresql":
        updates = _status_updates(commitments).order_by()
        return list(updates.values(**groups("commitment__")).annotate(**UPDATE_AGGREGATES))
    expressions = groups("")
    scoped = commitments.order_by().annotate(**{f"group_{name}": value for name, value in expressions.items()})
    scoped = scoped.values("id", "update_interval", *(f"group_{name}" for name in expressions))
    try:
        sql, params = scoped.query.sql_with_params()
    except EmptyResultSet:  # Someone in no team yet: no commitments, no updates.
        return []
    names = ", ".join(f"scoped.group_{name}" for name in expressions)
    query = UPDATE_COUNTS_SQL.format(commitments=sql, groups=names)
    with connection.cursor() as cursor:
        cursor.execute(
            query,
            [
                *params,
                settings.FOLLOWTHROUGH_SWEEP_INTERVAL,
                tuple(str(kind) for kind in CUSTOMER_MESSAGE_KINDS),
                str(TimelineEvent.Kind.UPDATE_SENT),
            ],
        )
        columns = [*expressions, *UPDATE_AGGREGATES]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _figures(row: dict[str, Any]) -> Figures:
    figures = Figures(**{name: row[name] for name in Figures.__dataclass_fields__ if name in row})
    if figures.median_slip is not None:  # To the minute: "1915m", not "114917.5s".
        figures.median_slip = timedelta(minutes=round(figures.median_slip.total_seconds() / 60))
    return figures


def _merge(figures: Figures, row: dict[str, Any]) -> None:
    for name in UPDATE_AGGREGATES:
        setattr(figures, name, row[name])


@contextmanager
def _aggregating() -> Iterator[None]:
    """Around the figures' queries: on PostgreSQL, no JIT compilation.

    The figures are a few short aggregates whose cost estimates (many rows, many filters) pass
    PostgreSQL's JIT threshold; compiling them takes longer (about 100 ms each) than running them.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield


def period_start(now: datetime, period: int) -> datetime:
    return now - timedelta(days=period)


def _summed(rows: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any]) -> dict[Any, dict[str, int]]:
    """Update counts add up: grouped rows (a few, already aggregated) summed by ``key`` (None: left out)."""
    totals: dict[Any, dict[str, int]] = {}
    for row in rows:
        group = key(row)
        if group is None:
            continue
        total = totals.setdefault(group, dict.fromkeys(UPDATE_AGGREGATES, 0))
        for name in UPDATE_AGGREGATES:
            total[name] += row[name]
    return totals


@dataclass
class PageUpdateCounts:
    """The page's status update counts, counted once for its figures and its trends alike: grouped by
    team, owner, the week the commitment was logged and whether it was logged in the period.
    """

    rows: list[dict[str, Any]]
    zone: Any


def page_update_counts(*, scope: Scope, period: int, now: datetime) -> PageUpdateCounts:
    """One query over the commitments of the period and of the trends' weeks (whichever reaches further)."""
    zone = timezone.get_current_timezone()
    starts = period_start(now, period)
    commitments = scope.commitments().filter(created_at__gte=min(starts, first_trend_week(now, zone)))
    with _aggregating():
        rows = update_counts(commitments, update_groups(zone=zone, period_starts=starts))
    return PageUpdateCounts(rows=rows, zone=zone)


def _week_day(value: datetime, zone: Any) -> Any:
    # The raw query gives the local week start as a naive timestamp; the ORM's, an aware one.
    return value.date() if timezone.is_naive(value) else timezone.localtime(value, zone).date()


@dataclass
class Week:
    starts: datetime
    figures: Figures


def first_trend_week(now: datetime, zone: Any, weeks: int = TREND_WEEKS) -> datetime:
    """The local Monday, midnight, that the trends start on: ``weeks`` weeks, this one included."""
    this_week = timezone.localtime(now, zone).replace(hour=0, minute=0, second=0, microsecond=0)
    this_week -= timedelta(days=this_week.weekday())
    return this_week - timedelta(weeks=weeks - 1)


def _teams(scope: Scope, by_team: dict[int, Figures], by_owner: list[tuple[int, int, Figures]]) -> list[TeamFigures]:
    """Each shown team with its figures and its owners' (by name), from the figures by team and by owner."""
    owners = User.objects.in_bulk({owner_id for _, owner_id, _ in by_owner})
    result = []
    for team in scope.shown_teams:
        entry = TeamFigures(team=team, figures=by_team.get(team.pk) or Figures())
        for team_id, owner_id, figures in by_owner:
            if team_id == team.pk:
                entry.owners.append(OwnerFigures(owner=owners[owner_id], figures=figures))
        entry.owners.sort(key=lambda item: (item.owner.display_name.lower(), item.owner.pk))
        result.append(entry)
    return result


def _weeks(first: datetime, weeks: int, zone: Any, by_week: dict[Any, Figures]) -> list[Week]:
    """``weeks`` weeks from ``first``, each with its figures (nothing logged: empty figures)."""
    result = []
    for index in range(weeks):
        starts = (first + timedelta(weeks=index)).replace(tzinfo=None)
        starts = timezone.make_aware(starts, zone)  # Across a clock change, still local midnight.
        result.append(Week(starts=starts, figures=by_week.get(starts.date()) or Figures()))
    return result


# The page's figures, its owners' and its weeks' in one statement (PostgreSQL). Each commitment of
# the period and of the trends' weeks is read once, from the covering index ``commitment_team_figures``,
# with the conditions of ``commitment_conditions`` that need only the commitment. Its timeline is
# read once too, from ``event_dashboard_figures`` (its messages to the customer and its "chased" and
# "reopened" events, in time order): the status updates sent and sent on time (as in
# ``UPDATE_COUNTS_SQL``) and the three signals of ``commitment_conditions`` that the ORM asks with
# ``_event``: an event of that kind, not before the commitment was logged. GROUPING SETS then add
# them up by week, by team and by owner at once. Separate grouped queries, each reading the same
# commitments and probing the timeline three times per commitment, cost several times as much.
FIGURES_SQL = """
WITH scoped AS MATERIALIZED ({commitments}),
event AS (
    SELECT scoped.*, event.kind, event.actor_label, event.created_at AS event_at,
           max(event.created_at) FILTER (WHERE event.kind IN %s) OVER (
               PARTITION BY scoped.id ORDER BY event.created_at
               RANGE BETWEEN UNBOUNDED PRECEDING AND '1 microsecond' PRECEDING
           ) AS previous_at
    FROM scoped LEFT JOIN commitments_timelineevent AS event
        ON event.commitment_id = scoped.id AND event.kind IN %s
),
commitment AS (
    SELECT {columns},
           count(*) FILTER (WHERE event.kind = %s) AS sent,
           count(*) FILTER (
               WHERE event.kind = %s AND event.event_at <= event.previous_at + event.update_interval + %s
           ) AS on_time,
           coalesce(bool_or(event.kind = %s AND event.event_at >= event.created_at), false) AS chased,
           coalesce(bool_or(event.kind = %s AND event.event_at >= event.created_at), false) AS reopened,
           coalesce(
               bool_or(event.kind = %s AND event.actor_label = 'customer' AND event.event_at >= event.created_at),
               false
           ) AS customer_reopened
    FROM event
    GROUP BY {columns}
)
SELECT GROUPING(scoped.in_period) = 1, GROUPING(scoped.owner_id) = 0, {week}, scoped.in_period,
       scoped.team_id, scoped.owner_id, count(*), {counts},
       percentile_cont(0.5) WITHIN GROUP (ORDER BY scoped.slip),
       coalesce(sum(scoped.sent), 0)::bigint, coalesce(sum(scoped.on_time), 0)::bigint
FROM commitment AS scoped
GROUP BY GROUPING SETS ({sets})
"""
# What the statement reads of each commitment (besides the conditions' flags).
SCOPED_COLUMNS = ("id", "team_id", "owner_id", "created_at", "update_interval", "week", "in_period", "slip")
# The conditions of ``commitment_conditions`` on the timeline, as the statement counts them.
TIMELINE_COUNTS = {
    "chased": "scoped.chased",
    "reopened": "scoped.reopened",
    "satisfaction_answered": "scoped.is_confirmed OR scoped.customer_reopened",
}


@dataclass
class PageFigures:
    teams: list[TeamFigures]
    weeks: list[Week]
    as_of: datetime  # The moment they were counted at: every figure is as it stood then.


def page_figures(*, scope: Scope, period: int, now: datetime, weeks: int = TREND_WEEKS) -> PageFigures:
    """The shown teams' figures and their owners' over the last ``period`` days, and the figures of
    each of the last ``weeks`` weeks (none: ``weeks=0``), all taken at ``now``.

    On PostgreSQL one statement and one query for the owners' names, whatever the number of
    commitments; elsewhere the grouped queries of ``team_figures`` and ``weekly_trends``.
    """
    zone = timezone.get_current_timezone()
    if connection.vendor != "postgresql":
        updates = page_update_counts(scope=scope, period=period, now=now) if weeks else None
        return PageFigures(
            teams=team_figures(scope=scope, period=period, now=now, updates=updates),
            weeks=weekly_trends(scope=scope, weeks=weeks, now=now, updates=updates) if weeks else [],
            as_of=now,
        )
    period_starts = period_start(now, period)
    first = first_trend_week(now, zone, weeks) if weeks else None
    # The period's commitments and the trends' weeks', whichever reach further back.
    if first is not None and first <= period_starts:
        commitments = scope.commitments().filter(created_at__gte=first)
    else:
        commitments = scope.commitments().filter(created_at__gt=period_starts)
    conditions = commitment_conditions(now)
    flags = {
        f"is_{name}": ExpressionWrapper(condition, output_field=BooleanField())
        for name, condition in conditions.items()
        if name not in TIMELINE_COUNTS
    }
    scoped = (
        commitments.order_by()
        .annotate(
            week=TruncWeek("created_at", tzinfo=zone),
            in_period=ExpressionWrapper(Q(created_at__gt=period_starts), output_field=BooleanField()),
            slip=promise_conditions()[2],
            **flags,
        )
        .values(*SCOPED_COLUMNS, *flags)
    )
    try:
        sql, params = scoped.query.sql_with_params()
    except EmptyResultSet:  # Someone in no team yet: no teams, and each week counts nothing.
        return PageFigures(teams=[], weeks=_weeks(first, weeks, zone, {}) if first else [], as_of=now)
    sets = ["(scoped.in_period, scoped.team_id)", "(scoped.in_period, scoped.team_id, scoped.owner_id)"]
    if weeks:
        sets.append("(scoped.week)")
    counts = [f"count(*) FILTER (WHERE {TIMELINE_COUNTS.get(name, f'scoped.is_{name}')})" for name in conditions]
    query = FIGURES_SQL.format(
        commitments=sql,
        columns=", ".join([*SCOPED_COLUMNS, *flags]),
        counts=", ".join(counts),
        sets=", ".join(sets),
        week="scoped.week" if weeks else "NULL",
    )
    columns = [
        "by_week", "by_owner", "week", "in_period", "team_id", "owner_id", "total", *conditions,
        "median_slip", "updates_sent", "updates_sent_on_time",
    ]  # fmt: skip
    with _aggregating(), connection.cursor() as cursor:
        cursor.execute(
            query,
            [
                *params,
                tuple(str(kind) for kind in CUSTOMER_MESSAGE_KINDS),
                tuple(str(kind) for kind in (*CUSTOMER_MESSAGE_KINDS, *SIGNAL_KINDS)),
                str(TimelineEvent.Kind.UPDATE_SENT),
                str(TimelineEvent.Kind.UPDATE_SENT),
                settings.FOLLOWTHROUGH_SWEEP_INTERVAL,
                str(TimelineEvent.Kind.CHASED),
                str(TimelineEvent.Kind.REOPENED),
                str(TimelineEvent.Kind.REOPENED),
            ],
        )
        rows = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
    by_week: dict[Any, Figures] = {}
    by_team: dict[int, Figures] = {}
    by_owner: list[tuple[int, int, Figures]] = []
    for row in rows:
        if row["by_week"]:
            by_week[_week_day(row["week"], zone)] = _figures(row)
        elif not row["in_period"]:
            continue  # Logged in the trends' weeks but before the period.
        elif row["by_owner"]:
            by_owner.append((row["team_id"], row["owner_id"], _figures(row)))
        else:
            by_team[row["team_id"]] = _figures(row)
    return PageFigures(
        teams=_teams(scope, by_team, by_owner),
        weeks=_weeks(first, weeks, zone, by_week) if first else [],
        as_of=now,
    )


def team_figures(
    *,
    scope: Scope,
    period: int = DEFAULT_PERIOD,
    now: datetime | None = None,
    updates: PageUpdateCounts | None = None,
) -> list[TeamFigures]:
    """Each shown team's figures and its owners', over the commitments created in the last ``period`` days.

    On PostgreSQL, ``page_figures``'s statement without the weeks. Elsewhere (or given ``updates``,
    the status updates the page counted already, taken at the same ``now``): three grouped queries
    (commitments by team and by owner, their status updates by owner) and one for the owners' names,
    whatever the number of commitments.
    """
    now = now or timezone.now()
    if updates is None and connection.vendor == "postgresql":
        return page_figures(scope=scope, period=period, now=now, weeks=0).teams
    commitments = scope.commitments().filter(created_at__gt=period_start(now, period))
    aggregates = _commitment_aggregates(now)
    with _aggregating():
        by_team = {row["team_id"]: row for row in commitments.order_by().values("team_id").annotate(**aggregates)}
        by_owner = list(commitments.order_by().values("team_id", "owner_id").annotate(**aggregates))
        if updates is None:
            update_rows = update_counts(commitments, update_groups())
        else:
            update_rows = [row for row in updates.rows if row["in_period"]]
    updates_by_owner = _summed(update_rows, lambda row: (row["team"], row["owner"]))
    updates_by_team = _summed(update_rows, lambda row: row["team"])
    team_rows: dict[int, Figures] = {}
    for team_id, row in by_team.items():
        team_rows[team_id] = _figures(row)
        if team_id in updates_by_team:
            _merge(team_rows[team_id], updates_by_team[team_id])
    owner_rows = []
    for row in by_owner:
        owner_figures = _figures(row)
        if (row["team_id"], row["owner_id"]) in updates_by_owner:
            _merge(owner_figures, updates_by_owner[row["team_id"], row["owner_id"]])
        owner_rows.append((row["team_id"], row["owner_id"], owner_figures))
    return _teams(scope, team_rows, owner_rows)


def weekly_trends(
    *,
    scope: Scope,
    weeks: int = TREND_WEEKS,
    now: datetime | None = None,
    updates: PageUpdateCounts | None = None,
) -> list[Week]:
    """The figures of the commitments created each week (Monday to Sunday, in the page's time zone),
    for the last ``weeks`` weeks, this one included.

    On PostgreSQL, ``page_figures``'s statement. Elsewhere (or given ``updates``, the status updates
    the page counted already, taken at the same ``now``): two grouped queries (one given ``updates``).
    """
    now = now or timezone.now()
    zone = timezone.get_current_timezone()
    first = first_trend_week(now, zone, weeks)
    if updates is None and connection.vendor == "postgresql":
        # The period only decides which teams' rows come back too: the shortest reads no further.
        return page_figures(scope=scope, period=min(PERIODS), now=now, weeks=weeks).weeks
    commitments = scope.commitments().filter(created_at__gte=first)
    rows = (
        commitments.order_by().values(week=TruncWeek("created_at", tzinfo=zone)).annotate(**_commitment_aggregates(now))
    )
    with _aggregating():
        by_week = {timezone.localtime(row["week"], zone).date(): row for row in rows}
        if updates is None:
            update_rows = update_counts(commitments, update_groups(zone=zone))
            zone_of_rows = zone
        else:
            update_rows, zone_of_rows = updates.rows, updates.zone
    # Rows of weeks before the first (a longer period's) fall outside every week shown below.
    updates_by_week = _summed(update_rows, lambda row: _week_day(row["week"], zone_of_rows))
    figures_by_week = {}
    for day, row in by_week.items():
        figures_by_week[day] = _figures(row)
        if day in updates_by_week:
            _merge(figures_by_week[day], updates_by_week[day])
    return _weeks(first, weeks, zone, figures_by_week)


# --- What needs attention now ----------------------------------------------------------------


@dataclass(frozen=True)
class NowList:
    key: str
    title: str
    explanation: str


NOW_LISTS = [
    NowList(
        "overdue",
        "Overdue",
        "Past the due time, not yet fulfilled and not yet marked missed (waiting on the customer included).",
    ),
    NowList("missed", "Missed", "Not fulfilled by the due time: owner and lead are reminded every update interval."),
    NowList(
        "at_risk",
        "At risk",
        "Not yet due, but due within the last warning step, or an update to the customer is overdue, "
        "or a call task is not done.",
    ),
    NowList("reopened", "Reopened", "Fulfilled, but not resolved for the customer."),
    NowList("replies", "Replies not yet answered", "The customer wrote to us and no one has answered yet."),
]
NOW_LISTS_BY_KEY = {entry.key: entry for entry in NOW_LISTS}


def _undone_call_tasks(now: datetime) -> QuerySet[Notification]:
    return Notification.objects.filter(
        kind=MessageKind.CALL_TASK, completed_at__isnull=True, scheduled_for__lte=now
    ).exclude(status=DeliveryStatus.SUPPRESSED)


def now_list(*, scope: Scope, key: str, now: datetime | None = None, with_reply: bool = True) -> QuerySet[Commitment]:
    """One of the "now" lists, grouped by owner (then most urgent first); the replies list's rows with
    their latest reply (``reply_text``, ``reply_at``) unless ``with_reply`` is False.
    """
    now = now or timezone.now()
    commitments = scope.commitments()
    if key == "overdue":
        found = commitments.filter(overdue_q(now)).exclude(status=Status.MISSED)
    elif key == "missed":
        found = commitments.filter(status=Status.MISSED)
    elif key == "at_risk":
        due_soon = Q(due_at__lte=now + last_warning_step())
        update_overdue = Q(next_update_at__lte=now)
        call_task_undone = Q(pk__in=_undone_call_tasks(now).values("commitment_id"))
        found = commitments.filter(
            due_soon | update_overdue | call_task_undone,
            status__in=[status for status in ACTIVE_STATUSES if status != Status.MISSED],
            due_at__gt=now,
        )
    elif key == "reopened":
        found = commitments.filter(status=Status.REOPENED)
    elif key == "replies":
        replies = unanswered_replies(commitments=commitments, now=now)
        found = Commitment.objects.filter(pk__in=replies.values("commitment_id"))
        if with_reply:
            found = found.annotate(**_latest_reply(replies))
    else:
        raise ValueError(f"No such list: {key}")
    return found.select_related("customer", "owner", "assignee", "team").order_by(
        "owner__first_name", "owner__last_name", "owner_id", "due_at", "pk"
    )


def _latest_reply(replies: QuerySet[TimelineEvent]) -> dict[str, Any]:
    """The latest of these replies (not yet answered) on each commitment."""
    latest = replies.filter(commitment_id=OuterRef("pk")).order_by("-created_at")
    return {
        "reply_text": Subquery(latest.values("message")[:1]),
        "reply_at": Subquery(latest.values("created_at")[:1], output_field=DateTimeField()),
    }


def _by_owner(commitment: Commitment) -> tuple[Any, ...]:
    """``now_list``'s order, in Python (for rows read by id)."""
    owner = commitment.owner
    return (owner.first_name, owner.last_name, owner.pk, commitment.due_at, commitment.pk)


@dataclass
class NowSection:
    entry: NowList
    rows: list[Commitment]
    count: int


def now_sections(*, scope: Scope, now: datetime | None = None, limit: int = LIST_LIMIT) -> list[NowSection]:
    """Every "now" list with its first ``limit`` rows and its full count, however long the lists are:
    one query for which rows each list shows and how many it has (the count a window over the whole
    list, taken before the limit), then one for those rows and what they show.

    The first reads only the lists' commitments and their owners (the order is by owner), from the
    team indexes; the customers, assignees and replies are read for the few rows shown, not joined
    to every row of every list before the limit.
    """
    now = now or timezone.now()
    if limit <= 0:
        return [
            NowSection(entry=entry, rows=[], count=_unlisted(scope, entry.key, now).order_by().count())
            for entry in NOW_LISTS
        ]
    shown: dict[str, list[int]] = {entry.key: [] for entry in NOW_LISTS}
    counts = dict.fromkeys(shown, 0)
    if connection.features.supports_slicing_ordering_in_compound:
        listed: Iterable[tuple[str, int, int]] = _listed(scope, now, limit)
    else:  # SQLite (a first run) cannot limit each part of a UNION: one query a list there.
        listed = [row for first in _firsts(scope, now, limit) for row in first]
    for key, pk, count in listed:
        shown[key].append(pk)
        counts[key] = count
    every = {pk for pks in shown.values() for pk in pks}
    rows = Commitment.objects.filter(pk__in=every).select_related("customer", "owner", "assignee")
    # The page's rows need no team (the CSV's do). The latest reply only for the replies list's
    # rows (the query is planned for those alone, not asked once for every row shown).
    if shown["replies"]:
        reply = _latest_reply(unanswered_replies(commitments=scope.commitments(), now=now))
        rows = rows.annotate(
            reply_text=Case(When(pk__in=shown["replies"], then=reply["reply_text"])),
            reply_at=Case(When(pk__in=shown["replies"], then=reply["reply_at"]), output_field=DateTimeField()),
        )
    by_pk = {commitment.pk: commitment for commitment in rows} if every else {}
    return [
        NowSection(
            entry=entry,
            rows=sorted((by_pk[pk] for pk in shown[entry.key] if pk in by_pk), key=_by_owner),
            count=counts[entry.key],
        )
        for entry in NOW_LISTS
    ]


def _unlisted(scope: Scope, key: str, now: datetime) -> QuerySet[Commitment]:
    # The replies are read for the rows shown (``now_sections``): not built into the query that picks them.
    return now_list(scope=scope, key=key, now=now, with_reply=False)


def _firsts(scope: Scope, now: datetime, limit: int) -> list[QuerySet[Any]]:
    """Each list's first ``limit`` ids in its order, each with the list's key and its whole count."""
    return [
        _unlisted(scope, entry.key, now)
        .select_related(None)
        .annotate(listed=Window(Count("pk")), list_key=Value(entry.key))
        .values_list("list_key", "pk", "listed")[:limit]
        for entry in NOW_LISTS
    ]


# The lists' statement (PostgreSQL: one UNION of the five), as the ORM writes it, kept per scope.
# Building and compiling the five lists' querysets cost about 10 ms of Python a page, more than the
# database takes to answer them, and only their moments change from one request to the next: each
# is "now" moved by a setting (the last warning step, the replies' horizon). So the statement is
# written once at a fixed moment, and a request moves its moments by its own time since then.
# Written at a second moment too: a statement whose text or other values change with the moment
# (something it compares with a fixed time) is not kept, but written anew for every request.
_WRITTEN_AT = datetime(2000, 1, 3, tzinfo=UTC)
_CHECKED_AT = _WRITTEN_AT + timedelta(days=1, hours=1, minutes=1)
# None: written at the two moments, the statement differed by more than its moments (never kept).
_STATEMENTS: dict[tuple[Any, ...], tuple[str, tuple[Any, ...]] | None] = {}
_STATEMENTS_KEPT = 256
_NOT_YET_WRITTEN: Any = object()


def _statement(scope: Scope, now: datetime, limit: int) -> tuple[str, tuple[Any, ...]]:
    union = _firsts(scope, now, limit)
    query = union[0].union(*union[1:], all=True).query
    sql, params = query.sql_with_params()
    return sql, tuple(params)


def _listed(scope: Scope, now: datetime, limit: int) -> list[tuple[str, int, int]]:
    """``now_sections``'s first query: (list's key, id, the list's count) for each list's first rows."""
    if not scope.shown_teams:  # Someone in no team yet: nothing to list (and no statement to write).
        return []
    led = tuple(sorted(team.pk for team in scope.shown_teams if scope.leads(team)))
    own = tuple(sorted(team.pk for team in scope.shown_teams if not scope.leads(team)))
    key = (
        connection.alias,
        led,
        own,
        scope.user.pk if own else None,
        scope.owner_id,
        scope.channel,
        limit,
        last_warning_step(),  # A setting: the one moment it moves is not "now" itself.
    )
    kept = _STATEMENTS.get(key, _NOT_YET_WRITTEN)
    if kept is _NOT_YET_WRITTEN:
        if len(_STATEMENTS) >= _STATEMENTS_KEPT:
            _STATEMENTS.clear()
        sql, params = _statement(scope, _WRITTEN_AT, limit)
        moves_with_now = (sql, _moved(params, _CHECKED_AT)) == _statement(scope, _CHECKED_AT, limit)
        _STATEMENTS[key] = kept = (sql, params) if moves_with_now else None
    if kept is None:  # More than "now" moves in it: written anew for each request.
        return _fetched(*_statement(scope, now, limit))
    sql, params = kept
    return _fetched(sql, _moved(params, now))


def _fetched(sql: str, params: tuple[Any, ...]) -> list[tuple[str, int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _moved(params: tuple[Any, ...], now: datetime) -> tuple[Any, ...]:
    """The statement's values as at ``now``: each moment moved by the time from ``_WRITTEN_AT``."""
    shift = now - _WRITTEN_AT
    return tuple(value + shift if isinstance(value, datetime) else value for value in params)


def fulfilled_since(*, scope: Scope, since: datetime, now: datetime | None = None) -> QuerySet[Commitment]:
    """Fulfilled between ``since`` and now (the digest's good news)."""
    now = now or timezone.now()
    return (
        scope.commitments()
        .filter(fulfilled_at__gt=since, fulfilled_at__lte=now)
        .exclude(status=Status.CANCELLED)
        .select_related("customer", "owner")
        .order_by("owner__first_name", "owner__last_name", "owner_id", "fulfilled_at", "pk")
    )
