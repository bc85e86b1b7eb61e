"""The sweep, delivery and list queries walk their indexes, never the whole table.

Each test seeds a few hundred rows and asks PostgreSQL for its plan with sequential scans
priced out (``enable_seqscan = off``): on a table this small the planner would otherwise rightly
prefer a scan, but with it off a query that has no usable index still shows a ``Seq Scan``, so
the test fails exactly when an index stops serving the query. ``benchmarks/run.py`` shows the
same plans at full size.
"""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from commitments import selectors
from commitments.models import ACTIVE_STATUSES, Commitment, Customer, Status
from commitments.status_links import issue_status_link
from notifications import delivery, sweeps
from notifications.models import Notification
from tests.indexes import columns_of_index, commitment_columns_read

pytestmark = pytest.mark.django_db

BIG_TABLES = {"commitments_commitment", "notifications_notification", "commitments_timelineevent"}


def plan_of(sql: str, params: Any) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        [[plan]] = cursor.fetchall()
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def scans(plan: dict[str, Any]) -> list[tuple[str, str]]:
    """(node type, index or table) of every scan in the plan."""
    found = []
    if "Scan" in plan["Node Type"]:
        found.append((plan["Node Type"], plan.get("Index Name") or plan.get("Relation Name", "")))
    for child in plan.get("Plans", []):
        found += scans(child)
    return found


def node_types(plan: dict[str, Any]) -> set[str]:
    return {plan["Node Type"]}.union(*(node_types(child) for child in plan.get("Plans", [])))


def scans_of(queryset: QuerySet[Any]) -> list[tuple[str, str]]:
    sql, params = queryset.query.sql_with_params()
    return scans(plan_of(sql, params))


def assert_no_sequential_scan_of_big_tables(found: list[tuple[str, str]]) -> None:
    assert not [name for kind, name in found if kind == "Seq Scan" and name in BIG_TABLES], found


@pytest.fixture
def many(agent, team):
    """Three hundred commitments in every state, and an outbox row each."""
    now = timezone.now()
    customers = Customer.objects.bulk_create(
        Customer(name=f"C {n}", email=f"c{n}@example.com", team=team) for n in range(300)
    )
    statuses = [Status.OPEN, Status.WAITING, Status.MISSED, Status.FULFILLED, Status.CONFIRMED, Status.CANCELLED]
    rows = []
    for n, customer in enumerate(customers):
        commitment = Commitment(
            customer=customer,
            team=team,
            owner=agent,
            assignee=agent,
            summary=f"Promise {n}",
            status=statuses[n % len(statuses)],
            due_at=now + timedelta(hours=n - 150),
            update_interval=timedelta(hours=24),
            next_update_at=now + timedelta(minutes=n - 10),
            next_escalation_at=now + timedelta(hours=n),
            satisfaction_due_at=now + timedelta(hours=n - 5),
        )
        issue_status_link(commitment)
        rows.append(commitment)
    Commitment.objects.bulk_create(rows)
    Notification.objects.bulk_create(
        Notification(
            commitment=commitment,
            kind="status_update",
            channel="email",
            audience="customer",
            recipient=commitment.customer.email,
            body="An update",
            idempotency_key=f"{commitment.pk}:bench",
            status="pending" if n % 10 == 0 else "sent",
        )
        for n, commitment in enumerate(rows)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE commitments_commitment")
        cursor.execute("ANALYZE notifications_notification")
    return now


@pytest.mark.parametrize(
    ("due", "index"),
    [
        (sweeps._missed_due, "commitment_running_due"),
        (sweeps._escalations_due, "commitment_escalation_due"),
        (sweeps._updates_due, "commitment_update_due"),
        (sweeps._satisfaction_due, "commitment_satisfaction_due"),
        (sweeps._call_tasks_due, "notification_call_escalation"),
    ],
)
def test_each_sweep_claims_its_batch_by_walking_its_own_index(many, due, index):
    # The batch claim as the sweep runs it: the due rows in order, a batch at a time, locked
    claim = due(many).select_for_update(skip_locked=True, of=("self",))[: sweeps.BATCH_SIZE]
    # On a few hundred rows, in a table the suite's earlier tests have left full of dead space,
    # the planner may as well gather them through a bitmap and sort them: what is asked here is
    # that the sweep's own index serves its claim in order (at a million, docs/benchmarks.md's
    # plans show the planner choosing it).
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_bitmapscan = off")
    sql, params = claim.values("pk").query.sql_with_params()
    plan = plan_of(sql, params)

    found = scans(plan)

    assert (found[0][1], found[0][0] in ("Index Scan", "Index Only Scan")) == (index, True), found
    assert "Sort" not in node_types(plan), "the claim sorts instead of walking the index in order"
    assert_no_sequential_scan_of_big_tables(found)


def test_the_one_query_that_asks_which_sweeps_have_work_walks_every_sweeps_index(many):
    probes = [due(many) for due in (sweeps._missed_due, sweeps._updates_due, sweeps._satisfaction_due)]
    sql = "SELECT " + ", ".join(f"({query.values('pk')[:1].query.sql_with_params()[0]})" for query in probes)
    params = [param for query in probes for param in query.values("pk")[:1].query.sql_with_params()[1]]

    found = scans(plan_of(sql, params))

    assert {name for _, name in found} == {
        "commitment_running_due",
        "commitment_update_due",
        "commitment_satisfaction_due",
    }


def test_delivery_claims_due_rows_by_its_index(many):
    # The claim's filter, as delivery.claim() builds it
    from django.db.models import Q

    now = timezone.now()
    due = (
        Notification.objects.filter(status="pending", next_attempt_at__lte=now)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
        .order_by("next_attempt_at", "pk")
        .values("pk")[: delivery.BATCH_SIZE]
    )

    found = scans_of(due)

    assert "notification_deliverable" in {name for _, name in found}, found
    assert_no_sequential_scan_of_big_tables(found)


def page_of_ids(queryset: QuerySet[Commitment]) -> QuerySet[Any]:
    """What a list page reads first: the ids of its first page in the list's order (``NarrowFirst``)."""
    return queryset.values_list("pk", flat=True)[:50]


@pytest.mark.parametrize(
    "listing",
    [
        pytest.param(lambda user: selectors.my_commitments(user=user), id="agent's list"),
        pytest.param(lambda user: selectors.team_commitments(user=user), id="team list"),
        pytest.param(lambda user: selectors.visible_commitments(user=user).order_by("due_at", "pk"), id="API list"),
        pytest.param(
            lambda user: selectors.visible_commitments(user=user).filter(status=Status.OPEN).order_by("due_at", "pk"),
            id="API list of open ones",
        ),
    ],
)
def test_a_list_reads_its_rows_through_an_index(many, agent: User, listing):
    found = scans_of(page_of_ids(listing(agent)))

    assert found, "the list reads no table at all?"
    assert all(
        kind in ("Index Scan", "Index Only Scan", "Bitmap Index Scan", "Bitmap Heap Scan") for kind, _ in found
    ), found
    assert_no_sequential_scan_of_big_tables(found)


def test_a_commitment_page_reads_its_timeline_and_messages_by_index(many):
    commitment = Commitment.objects.filter(status__in=ACTIVE_STATUSES).first()
    assert commitment is not None

    found = scans_of(selectors.timeline(commitment=commitment)) + scans_of(selectors.messages_of(commitment=commitment))
    # The newest events first, as the page opens (``selectors.newest_of_timeline``), by the same index
    newest = scans_of(selectors.timeline(commitment=commitment).reverse()[:31])
    assert {name for _, name in newest} & {"event_commitment_time"} or any(
        name.startswith("commitments_timelineevent_commitment_id") for _, name in newest
    ), newest
    assert_no_sequential_scan_of_big_tables(newest)

    # The timeline by either of its indexes on the commitment (the planner may take the narrower one)
    names = {name for _, name in found}
    assert names & {"event_commitment_time"} or any(
        n.startswith("commitments_timelineevent_commitment_id") for n in names
    )
    assert "notification_commitment_time" in names, found
    assert_no_sequential_scan_of_big_tables(found)


def test_the_team_list_is_ordered_from_its_covering_index_alone(many, agent: User):
    # Given the statement that picks a page of the team list (filter and urgency order)
    sql, _ = page_of_ids(selectors.team_commitments(user=agent)).query.sql_with_params()
    used = commitment_columns_read(sql)

    # Then every column it reads is in the covering index, so a team's tens of thousands of rows
    # are sorted from the index alone (an Index Only Scan at full size, see docs/benchmarks.md);
    # a column added to the order must be added to the index too
    covered = columns_of_index("commitment_team_status_due")
    assert used, sql
    assert used <= covered, used - covered


@pytest.fixture
def leaving(many, team) -> tuple[User, Any, Notification]:
    """A colleague who wrote on a timeline and was sent a message, among messages and events (the
    customers', the sweeps') with no staff member; with that event and that message."""
    from accounts.models import Membership
    from commitments.models import TimelineEvent

    colleague = User.objects.create_user("leaving", email="leaving@example.com", password="x-long-password-1")
    Membership.objects.create(user=colleague, team=team)
    commitment = Commitment.objects.first()
    assert commitment is not None
    event = TimelineEvent.objects.create(
        commitment=commitment, kind=TimelineEvent.Kind.EDITED, actor=colleague, message="Called"
    )
    message = Notification.objects.create(
        commitment=commitment,
        kind="escalation",
        channel="email",
        audience="staff",
        recipient="leaving@example.com",
        recipient_user=colleague,
        body="Due soon",
        idempotency_key="leaving-staff",
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE commitments_timelineevent")
    return colleague, event, message


def test_deleting_a_staff_member_finds_their_messages_and_events_by_the_indexes_kept_for_staff(leaving):
    from django.test.utils import CaptureQueriesContext

    # Given a colleague with an event and a message of their own
    colleague, _, _ = leaving

    # When they are deleted (Django sets the links to null: UPDATE ... WHERE <column> IN (...))
    with CaptureQueriesContext(connection) as ran:
        colleague.delete()
    unlinking = {
        table: query["sql"]
        for query in ran.captured_queries
        for table in ("commitments_timelineevent", "notifications_notification")
        if query["sql"].startswith(f'UPDATE "{table}" SET')
    }

    # Then those very statements walk the indexes that hold only the rows with a staff member
    assert set(unlinking) == {"commitments_timelineevent", "notifications_notification"}, ran.captured_queries
    events = scans(plan_of(unlinking["commitments_timelineevent"], None))
    messages = scans(plan_of(unlinking["notifications_notification"], None))
    assert "event_staff_actor" in {name for _, name in events}, events
    assert "notification_staff_recipient" in {name for _, name in messages}, messages
    assert_no_sequential_scan_of_big_tables(events + messages)


def test_deleting_a_staff_member_keeps_their_events_and_messages_without_them(leaving):
    # Given a colleague who wrote on a timeline and was sent a message
    colleague, event, message = leaving

    # When they are deleted
    colleague.delete()

    # Then the event and the message stay, no longer linked to anyone
    event.refresh_from_db()
    message.refresh_from_db()
    assert (event.actor_id, event.message) == (None, "Called")
    assert (message.recipient_user_id, message.recipient) == (None, "leaving@example.com")
