"""Reads for pages and the API. Every query that returns commitments starts from the caller's teams."""

import re
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BigIntegerField, Case, Count, ExpressionWrapper, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.models import Membership, Team, User, display_name
from commitments.contacts import normalize_email, normalize_phone
from commitments.models import (
    ACTIVE_STATUSES,
    RUNNING_STATUSES,
    Commitment,
    CommitmentSearchText,
    Customer,
    Status,
    Temperature,
    TimelineEvent,
)
from notifications.models import MessageKind, Notification

# An update counts as due when the next one is this close: time for the owner to write it themselves.
UPDATE_DUE_WINDOW = timedelta(hours=1)

OVERDUE, UPDATE_DUE, DUE_SOON, ON_TRACK = 0, 1, 2, 3


def visible_commitments(*, user: User) -> QuerySet[Commitment]:
    """The commitments of the user's teams (all of them for a superuser)."""
    queryset = Commitment.objects.select_related("customer", "owner", "assignee", "team")
    if user.is_superuser:
        return queryset
    # The ids themselves, not a join: the planner can then walk the (team, due_at, id) index.
    return queryset.filter(team_id__in=_team_ids(user))


def teams_of(*, user: User) -> QuerySet[Team]:
    """The teams a person works in (every team for a superuser), by name."""
    if user.is_superuser:
        return Team.objects.order_by("name")
    return Team.objects.filter(memberships__user=user).order_by("name")


def my_teams(*, user: User) -> list[Team]:
    """``teams_of``, read once a page (see ``teams_remembered``)."""
    if user.is_superuser:
        return list(teams_of(user=user))
    return _member_teams(user)


def agent_zone(*, user: User) -> zoneinfo.ZoneInfo:
    """The zone pages show times in: the user's (first) team's."""
    teams = _member_teams(user)
    return teams[0].zone if teams else zoneinfo.ZoneInfo("UTC")


# A page asks for the user's teams for its time zone, its scope and its team picker: within
# ``teams_remembered`` they are read once. Per request, never longer: a membership may change.
_REMEMBERED_TEAMS: ContextVar[tuple[int, list[Team]] | None] = ContextVar("remembered_teams", default=None)


@contextmanager
def teams_remembered(*, user: User) -> Iterator[list[Team]]:
    """Read the user's teams (by name) once for everything the page asks of them."""
    token = _REMEMBERED_TEAMS.set(None)
    try:
        teams = _member_teams(user)
        _REMEMBERED_TEAMS.set((user.pk, teams))
        yield teams
    finally:
        _REMEMBERED_TEAMS.reset(token)


def _member_teams(user: User) -> list[Team]:
    remembered = _REMEMBERED_TEAMS.get()
    if remembered is not None and remembered[0] == user.pk:
        return remembered[1]
    return list(Team.objects.filter(memberships__user=user).order_by("name"))


def _team_ids(user: User) -> list[int]:
    remembered = _REMEMBERED_TEAMS.get()
    if remembered is not None and remembered[0] == user.pk:
        return [team.pk for team in remembered[1]]
    # order_by(): a membership's default order joins the user and team tables for nothing.
    return list(Membership.objects.filter(user=user).order_by().values_list("team_id", flat=True))


def due_soon_window() -> timedelta:
    """How close a due time is "soon": the first (longest) escalation warning."""
    steps = settings.FOLLOWTHROUGH_ESCALATE_BEFORE
    return max(steps) if steps else timedelta(hours=24)


# Still owed to an upset customer: the lists put these first.
UPSET_RULE = Q(temperature=Temperature.UPSET, status__in=ACTIVE_STATUSES)


def upset_first() -> Case:
    """0 for a still-owed commitment to an upset customer, 1 otherwise: lists put those first."""
    return Case(When(UPSET_RULE, then=Value(0)), default=Value(1), output_field=IntegerField())


def _urgency_rules(now: datetime) -> list[tuple[int, Q]]:
    """Each urgency but the last (ON_TRACK) and its rule, the first that holds deciding."""
    return [
        (OVERDUE, Q(status=Status.MISSED) | Q(status__in=RUNNING_STATUSES, due_at__lte=now)),
        (UPDATE_DUE, Q(status__in=ACTIVE_STATUSES, next_update_at__lte=now + UPDATE_DUE_WINDOW)),
        (DUE_SOON, Q(status__in=RUNNING_STATUSES, due_at__lte=now + due_soon_window())),
    ]


def _with_urgency(queryset: QuerySet[Commitment], now: datetime) -> QuerySet[Commitment]:
    """Upset customers first; then most urgent first: overdue, an update due now, due soon, then the
    rest; then by due time."""
    urgency = Case(
        *[When(rule, then=Value(rank)) for rank, rule in _urgency_rules(now)],
        default=Value(ON_TRACK),
        output_field=IntegerField(),
    )
    return queryset.annotate(urgency=urgency, calm=upset_first()).order_by("calm", "urgency", "due_at", "pk")


# The parts of an urgency-ordered list, in its order: (calm, urgency).
SEGMENTS = [(calm, urgency) for calm in (0, 1) for urgency in (OVERDUE, UPDATE_DUE, DUE_SOON, ON_TRACK)]


def _segment_rule(calm: int, urgency: int, now: datetime) -> Q:
    """The rows of one part of the list (``_with_urgency``'s calm and urgency), as plain conditions
    on the columns, which PostgreSQL can walk an index by."""
    rule = UPSET_RULE if calm == 0 else ~UPSET_RULE
    for rank, condition in _urgency_rules(now):
        if rank == urgency:
            return rule & condition
        rule &= ~condition  # An earlier rule that held would have decided.
    return rule


def urgency_of(commitment: "Commitment | ListedCommitment", *, now: datetime | None = None) -> int:
    """The same ranking as the lists, for one commitment already in hand."""
    now = now or timezone.now()
    if commitment.status == Status.MISSED or (commitment.status in RUNNING_STATUSES and commitment.due_at <= now):
        return OVERDUE
    if (
        commitment.status in ACTIVE_STATUSES
        and commitment.next_update_at
        and commitment.next_update_at <= now + UPDATE_DUE_WINDOW
    ):
        return UPDATE_DUE
    if commitment.status in RUNNING_STATUSES and commitment.due_at <= now + due_soon_window():
        return DUE_SOON
    return ON_TRACK


def _own_commitments(user: User) -> QuerySet[Commitment]:
    """``visible_commitments`` where the user is the owner or the assignee, found by the person.

    The team check is made row by row (on ``team_id + 0``, which no index serves): offered the
    team's index, PostgreSQL ANDed a bitmap of the whole team's 50,000 rows with the person's few
    thousand, which cost more than the check itself.
    """
    queryset = Commitment.objects.select_related("customer", "owner", "assignee", "team")
    queryset = queryset.filter(Q(owner=user) | Q(assignee=user))
    if user.is_superuser:
        return queryset
    team = ExpressionWrapper(F("team_id") + 0, output_field=BigIntegerField())
    return queryset.alias(team_of_row=team).filter(team_of_row__in=_team_ids(user))


def my_commitments(*, user: User, now: datetime | None = None) -> QuerySet[Commitment]:
    """Still owed, where the user is the owner or the assignee; most urgent first."""
    queryset = _own_commitments(user).filter(status__in=ACTIVE_STATUSES)
    return _with_urgency(queryset, now or timezone.now())


# The agent's list shows this many of the recently fulfilled beside its first page.
RECENTLY_FULFILLED = 10


def my_recently_fulfilled(*, user: User, limit: int = RECENTLY_FULFILLED) -> list["ListedCommitment"]:
    """Fulfilled, the customer not yet asked or not yet answered: the last stretch of follow-through."""
    return NarrowFirst(_recently_fulfilled(user))[:limit]


def _recently_fulfilled(user: User) -> QuerySet[Commitment]:
    return (
        visible_commitments(user=user)
        .filter(Q(owner=user) | Q(assignee=user), status=Status.FULFILLED)
        .order_by("-fulfilled_at", "-pk")
    )


def team_commitments(*, user: User, team: Team | None = None, now: datetime | None = None) -> QuerySet[Commitment]:
    """All the still-owed commitments of the user's teams (or of one of them), most urgent first."""
    queryset = visible_commitments(user=user).filter(status__in=ACTIVE_STATUSES)
    if team is not None:
        queryset = queryset.filter(team=team)
    return _with_urgency(queryset, now or timezone.now())


MAX_LISTED_CUSTOMERS = 1000
MAX_LISTED_MATCHES = 5000
PHONE_WRITING = re.compile(r"^[\d\s().+-]+$")


def matching_text(commitments: QuerySet[Commitment], text: str) -> QuerySet[Commitment]:
    """Those whose summary, details or reference, or whose customer's name, email or phone, contain ``text``.

    Customers are matched first, on their own smaller table, and so are the commitments' words, on
    theirs (``CommitmentSearchText``, with the trigram indexes): short lists of ids (not subqueries)
    let PostgreSQL find the commitments by primary key and customer index instead of scanning every
    one.
    """
    who = Q(name__icontains=text) | Q(email__icontains=text)
    # A phone number, or part of one, as people write it ("(555) 555-0123") finds the E.164 one.
    digits = re.sub(r"\D", "", text)
    if PHONE_WRITING.match(text) and len(digits) >= 4:
        who |= Q(phone__contains=digits)
    customers = Customer.objects.filter(who).values("pk")
    ids = list(customers.values_list("pk", flat=True)[: MAX_LISTED_CUSTOMERS + 1])
    words = Q(summary__icontains=text) | Q(details__icontains=text) | Q(external_ref__icontains=text)
    worded = list(
        CommitmentSearchText.objects.filter(words).values_list("commitment_id", flat=True)[: MAX_LISTED_MATCHES + 1]
    )
    # Words in very many commitments: an index finds no fewer rows than a scan, and the commitment's
    # own copy of its words (the same) is read where it lies, without joining the other table.
    by_words = Q(pk__in=worded) if len(worded) <= MAX_LISTED_MATCHES else words
    found = commitments.filter(Q(customer_id__in=ids if len(ids) <= MAX_LISTED_CUSTOMERS else customers) | by_words)
    # A narrow search is looked up by id: ordered and limited as it stands, PostgreSQL would walk the
    # due-time index and filter a million rows to find the few that match.
    few = list(found.order_by().values_list("pk", flat=True)[: MAX_LISTED_MATCHES + 1])
    return commitments.filter(pk__in=few) if len(few) <= MAX_LISTED_MATCHES else found


def search_commitments(*, user: User, query: str) -> QuerySet[Commitment]:
    """By customer email, phone, name, summary or external reference; still-owed ones first.

    An exact email, phone number or reference (what an agent usually pastes) is looked up by index;
    only when none matches is every text searched for the words.
    """
    text = (query or "").strip()
    if not text:
        return Commitment.objects.none()
    try:
        phone = normalize_phone(text)
    except ValueError:
        phone = ""
    exact_customers = Q(email=text.lower()) | Q(phone=phone) if phone else Q(email=text.lower())
    customer_ids = list(
        visible_customers(user=user).filter(exact_customers).values_list("pk", flat=True)[:MAX_LISTED_CUSTOMERS]
    )
    found = visible_commitments(user=user).filter(Q(customer_id__in=customer_ids) | Q(external_ref=text))
    if not found.exists():
        found = matching_text(visible_commitments(user=user), text)
    still_owed_first = Case(
        When(status__in=ACTIVE_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return found.annotate(closed=still_owed_first, calm=upset_first()).order_by("closed", "calm", "due_at", "pk")


# What a list row shows of a commitment (``commitments.list_rows``): the commitment's own columns,
# the customer's and the names of its owner and assignee, read as plain values in one query. Built
# into model instances (four a row, with select_related), fifty rows cost three times as much as the
# query itself. A column a row needs and this leaves out is an AttributeError in the lists' tests.
LISTED_COLUMNS = (
    "pk",
    "customer_id",
    "owner_id",
    "assignee_id",
    "team_id",
    "summary",
    "external_ref",
    "status",
    "due_at",
    "next_update_at",
    "paused_at",
    "fulfilled_at",
    "temperature",
    "customer__name",
    "customer__email",
    "customer__phone",
    "customer__preferred_channel",
    "customer__timezone",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__username",
)


@dataclass(frozen=True, slots=True)
class ListedPerson:
    """An owner or assignee as a list names them."""

    first_name: str
    last_name: str
    username: str

    @property
    def display_name(self) -> str:
        return display_name(self.first_name, self.last_name, self.username)


@dataclass(frozen=True, slots=True)
class ListedCustomer:
    """A customer as a list (and search's customer links) shows them."""

    pk: int
    name: str
    email: str
    phone: str
    preferred_channel: str
    timezone: str


@dataclass(frozen=True, slots=True)
class ListedCommitment:
    """A commitment as a list row shows it (``LISTED_COLUMNS``), for reading only."""

    pk: int
    customer_id: int
    owner_id: int
    assignee_id: int
    team_id: int
    summary: str
    external_ref: str
    status: str
    due_at: datetime
    next_update_at: datetime | None
    paused_at: datetime | None
    fulfilled_at: datetime | None
    temperature: str
    customer: ListedCustomer
    owner: ListedPerson
    assignee: ListedPerson


def listed_rows(ids: list[int]) -> dict[int, ListedCommitment]:
    """The commitments a list shows, by id, in one query."""
    if not ids:
        return {}
    listed = {}
    for row in Commitment.objects.filter(pk__in=ids).order_by().values_list(*LISTED_COLUMNS):
        pk, customer_id, owner_id, assignee_id, team_id, summary, reference, status, due_at = row[:9]
        next_update_at, paused_at, fulfilled_at, temperature = row[9:13]
        listed[pk] = ListedCommitment(
            pk=pk,
            customer_id=customer_id,
            owner_id=owner_id,
            assignee_id=assignee_id,
            team_id=team_id,
            summary=summary,
            external_ref=reference,
            status=status,
            due_at=due_at,
            next_update_at=next_update_at,
            paused_at=paused_at,
            fulfilled_at=fulfilled_at,
            temperature=temperature,
            customer=ListedCustomer(customer_id, *row[13:18]),
            owner=ListedPerson(*row[18:21]),
            assignee=ListedPerson(*row[21:24]),
        )
    return listed


class NarrowFirst:
    """The rows of a long list for a Paginator: ordered on narrow rows, then one page fetched whole.

    Sorting ids (with the columns the order needs) and then loading fifty full rows keeps a page
    of a team's ten thousand open commitments as cheap as a page of fifty. With ``limit``, the ids
    (at most that many) are read in one pass and counted, for searches that scan.
    """

    def __init__(
        self,
        queryset: QuerySet[Commitment],
        *,
        count: int | None = None,
        limit: int | None = None,
        window: tuple[int, list[int]] | None = None,
    ) -> None:
        self.queryset = queryset
        self._count = count
        self._ids: list[int] | None = list(queryset.values_list("pk", flat=True)[:limit]) if limit else None
        # (offset, ids): a page's ids already read (``urgent_page``), for the page that starts there.
        self._window = window
        # Rows already read with another list's (``my_list_page``), by id.
        self.loaded: dict[int, ListedCommitment] = {}

    def count(self) -> int:
        if self._ids is not None:
            return len(self._ids)
        if self._count is None:
            self._count = self.queryset.order_by().count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[ListedCommitment]:
        known = self._ids
        if known is not None:
            ids = known[window]
        elif self._window is not None and self._window[0] == window.start:
            ids = self._window[1][: window.stop - window.start]
        else:
            ids = list(self.queryset.values_list("pk", flat=True)[window])
        rows = self.loaded if all(pk in self.loaded for pk in ids) else listed_rows(ids)
        return [rows[pk] for pk in ids if pk in rows]


def visible_customers(*, user: User) -> QuerySet[Customer]:
    """The customers of the user's teams (every team's for a superuser)."""
    if user.is_superuser:
        return Customer.objects.all()
    return Customer.objects.filter(team_id__in=_team_ids(user))


def visible_customer(*, user: User, pk: int) -> Customer | None:
    """The customer, if they belong to one of the user's teams (any customer for a superuser)."""
    return visible_customers(user=user).filter(pk=pk).first()


def customer_commitments(*, user: User, customer: Customer) -> QuerySet[Commitment]:
    """All of the customer's commitments in the user's teams: still-owed ones first, then the newest."""
    still_owed_first = Case(
        When(status__in=ACTIVE_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return (
        visible_commitments(user=user)
        .filter(customer=customer)
        .annotate(closed=still_owed_first)
        .order_by("closed", "-created_at", "-pk")
    )


def returning_customer(*, user: User, email: str = "", phone: str = "") -> Customer | None:
    """The customer these details find again among the user's teams' own (for the log-a-promise form)."""
    customers = visible_customers(user=user).order_by("pk")
    email = normalize_email(email)
    if email:
        found = customers.filter(email=email).first()
        if found:
            return found
    try:
        phone = normalize_phone(phone)
    except ValueError:
        return None
    return customers.filter(phone=phone).first() if phone else None


def timeline(*, commitment: Commitment) -> QuerySet[TimelineEvent]:
    return TimelineEvent.objects.filter(commitment=commitment).select_related("actor").order_by("created_at", "pk")


def newest_of_timeline(*, commitment: Commitment, count: int) -> tuple[list[TimelineEvent], bool]:
    """The newest ``count`` events, oldest first as the timeline reads, and whether earlier ones were left out.

    One more than asked is read to know that, without counting a long history.
    """
    newest = list(timeline(commitment=commitment).reverse()[: count + 1])
    return newest[:count][::-1], len(newest) > count


def messages_of(*, commitment: Commitment, limit: int = 100) -> QuerySet[Notification]:
    """Every message made for the commitment, newest first, with its delivery status."""
    return (
        Notification.objects.filter(commitment=commitment)
        .select_related("recipient_user")
        .order_by("-created_at", "-pk")[:limit]
    )


def open_call_tasks(*, commitment: Commitment) -> QuerySet[Notification]:
    """Calls the owner still has to make (the customer prefers phone calls)."""
    return (
        Notification.objects.filter(commitment=commitment, kind=MessageKind.CALL_TASK, completed_at__isnull=True)
        .exclude(status="suppressed")
        .order_by("scheduled_for", "pk")
    )


def team_members(*, team: Team) -> QuerySet[User]:
    return User.objects.filter(memberships__team=team, is_active=True).order_by("first_name", "last_name", "username")


# What the customer was last told, across all their promises: the one truth for whoever answers.
CUSTOMER_NEWS = (
    TimelineEvent.Kind.CREATED,
    TimelineEvent.Kind.UPDATE_SENT,
    TimelineEvent.Kind.RESCHEDULED,
    TimelineEvent.Kind.WAITING,
    TimelineEvent.Kind.RESUMED,
    TimelineEvent.Kind.FULFILLED,
    TimelineEvent.Kind.CANCELLED,
)


def latest_news_for_customer(*, user: User, customer: Customer) -> TimelineEvent | None:
    """The last thing any of the user's teams told this customer, with the commitment it was about."""
    return (
        TimelineEvent.objects.filter(
            commitment__in=visible_commitments(user=user).filter(customer=customer).values("pk"),
            kind__in=CUSTOMER_NEWS,
        )
        .select_related("actor", "commitment")
        .order_by("-created_at", "-pk")
        .first()
    )


def _page_number(page: str | None) -> int:
    """The page a request most likely gets (``Paginator.get_page`` has the last word)."""
    try:
        number = int(page or 1)
    except ValueError:
        return 1
    return max(number, 1)


def urgent_page(
    queryset: QuerySet[Commitment], *, page: str | None, per_page: int
) -> tuple[dict[str, int], "NarrowFirst"]:
    """A list's urgency figures and the ids of the page asked for, from one pass over its rows.

    ``queryset`` is one of the urgency-ordered lists (``my_commitments``, ``team_commitments``).
    Counted and ordered by two statements, a team's tens of thousands of open rows were read and
    ranked twice; here they are read once into a small working table that is both counted and
    sorted. The rows of another page than the one guessed (a number past the end) are read apart.
    """
    number = _page_number(page)
    offset = (number - 1) * per_page
    try:
        sql, params = statement_of_urgent_page(queryset, per_page=per_page, offset=offset)
    except EmptyResultSet:  # Someone in no team yet: nothing to list.
        grouped, ids = [], []
    else:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                grouped, ids = cursor.fetchone()
        else:  # SQLite (the first run's database): the same figures and page, in two plain queries.
            grouped = list(queryset.order_by().values_list("urgency").annotate(count=Count("pk")))  # type: ignore[misc]
            ids = list(queryset.values_list("pk", flat=True)[offset : offset + per_page])
    counts = _counted(grouped)
    return counts, NarrowFirst(queryset, count=counts["total"], window=(offset, list(ids)))


@dataclass
class MyListPage:
    """What the agent's list shows: its figures, the page of it asked for and, beside the first
    page, the recently fulfilled (None when the first page was not the one asked for)."""

    counts: dict[str, int]
    rows: "NarrowFirst"
    fulfilled: list[ListedCommitment] | None


def my_list_page(*, user: User, page: str | None, per_page: int, now: datetime | None = None) -> MyListPage:
    """``urgent_page`` of ``my_commitments``, with the recently fulfilled of its first page.

    On PostgreSQL the fulfilled ids are read by the figures' statement, and their rows with the
    page's in one read: two statements fewer than reading the fulfilled apart (the ids, then the rows).
    """
    listed = my_commitments(user=user, now=now)
    first_page = _page_number(page) == 1
    if not first_page or connection.vendor != "postgresql":
        counts, rows = urgent_page(listed, page=page, per_page=per_page)
        return MyListPage(counts, rows, my_recently_fulfilled(user=user) if first_page else None)
    try:
        fulfilled = _recently_fulfilled(user).values_list("pk", flat=True)[:RECENTLY_FULFILLED]
        sql, params = statement_of_urgent_page(listed, per_page=per_page, offset=0, also=fulfilled)
    except EmptyResultSet:  # Someone in no team yet: nothing to list.
        return MyListPage(_counted([]), NarrowFirst(listed, count=0, window=(0, [])), [])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        grouped, ids, fulfilled_ids = cursor.fetchone()
    counts = _counted(grouped)
    rows = NarrowFirst(listed, count=counts["total"], window=(0, list(ids)))
    rows.loaded = listed_rows([*ids, *fulfilled_ids])
    return MyListPage(counts, rows, [rows.loaded[pk] for pk in fulfilled_ids if pk in rows.loaded])


def _counted(grouped: list[tuple[int, int]]) -> dict[str, int]:
    by_urgency = {urgency: count for urgency, count in grouped}
    return {
        "total": sum(by_urgency.values()),
        "overdue": by_urgency.get(OVERDUE, 0),
        "update_due": by_urgency.get(UPDATE_DUE, 0),
        "due_soon": by_urgency.get(DUE_SOON, 0),
    }


def urgent_page_in_parts(
    queryset: QuerySet[Commitment], *, now: datetime, page: str | None, per_page: int
) -> tuple[dict[str, int], "NarrowFirst"]:
    """``urgent_page`` for a long list (a team's tens of thousands of open rows).

    The figures count every row, by part (upset or not, and urgency). The page's ids are then read
    from the parts it falls in only, each in due order with its own conditions (``_segment_rule``):
    a page of the overdue part walks the team's due-time index for fifty rows instead of ranking
    all of the team's open ones. ``queryset`` is ``team_commitments(now=now)``.
    """
    grouped = queryset.order_by().values_list("calm", "urgency").annotate(count=Count("pk"))  # type: ignore[misc]
    by_part = {(calm, urgency): count for calm, urgency, count in grouped}
    by_urgency = {urgency: 0 for urgency in (OVERDUE, UPDATE_DUE, DUE_SOON, ON_TRACK)}
    for (_, urgency), count in by_part.items():
        by_urgency[urgency] += count
    counts = {
        "total": sum(by_part.values()),
        "overdue": by_urgency[OVERDUE],
        "update_due": by_urgency[UPDATE_DUE],
        "due_soon": by_urgency[DUE_SOON],
    }
    offset = (_page_number(page) - 1) * per_page
    ids = _ids_in_parts(queryset, by_part, now=now, offset=offset, size=per_page)
    return counts, NarrowFirst(queryset, count=counts["total"], window=(offset, ids))


def _ids_in_parts(
    queryset: QuerySet[Commitment], by_part: dict[tuple[int, int], int], *, now: datetime, offset: int, size: int
) -> list[int]:
    """The ids of rows ``offset`` to ``offset + size`` of the list, read part by part in one statement."""
    reads = []
    start = 0
    for index, (calm, urgency) in enumerate(SEGMENTS):
        count = by_part.get((calm, urgency), 0)
        first, last = max(offset, start), min(offset + size, start + count)
        if first < last:
            part = (
                queryset.filter(_segment_rule(calm, urgency, now))
                .annotate(part=Value(index, output_field=IntegerField()))
                .order_by("due_at", "pk")
                .values_list("part", "due_at", "pk")
            )
            reads.append(part[first - start : last - start])
        start += count
    if not reads:
        return []
    if len(reads) == 1:
        found = list(reads[0])
    elif connection.features.supports_slicing_ordering_in_compound:
        found = list(reads[0].union(*reads[1:], all=True))
    else:  # SQLite cannot slice inside a UNION: one query a part (a page spans two or three).
        found = [row for read in reads for row in read]
    return [pk for _, _, pk in sorted(found)]  # The list's order: part, then due time and id.


def statement_of_urgent_page(
    queryset: QuerySet[Commitment], *, per_page: int, offset: int, also: QuerySet[Any] | None = None
) -> tuple[str, tuple[Any, ...]]:
    """``urgent_page``'s statement and its parameters, for the page of ``per_page`` rows from ``offset``.

    Each row's urgency and calm are worked out once, in the working table (MATERIALIZED: inlined
    twice, PostgreSQL would scan and work them out twice). Grouped by urgency, the figures; sorted
    in the lists' order (``_with_urgency``), the page's ids. Given ``also`` (ids read beside the
    page, e.g. the recently fulfilled), a third column holds them.
    """
    columns = queryset.order_by().values_list("pk", "due_at", "calm", "urgency")  # type: ignore[misc]
    inner, params = columns.query.sql_with_params()
    sql = (
        f"WITH listed (id, due_at, calm, urgency) AS MATERIALIZED ({inner}) "  # noqa: S608 - the ORM's own SQL
        "SELECT ARRAY(SELECT ARRAY[urgency, count(*)] FROM listed GROUP BY urgency), "
        "ARRAY(SELECT id FROM listed ORDER BY calm, urgency, due_at, id LIMIT %s OFFSET %s)"
    )
    if also is None:
        return sql, (*params, per_page, offset)
    also_sql, also_params = also.query.sql_with_params()
    return f"{sql}, ARRAY({also_sql})", (*params, per_page, offset, *also_params)
