"""The periodic sweeps: commitments whose next action has come become outbox rows.

Each sweep is an indexed range scan over one of the commitment's time columns (``due_at``,
``next_escalation_at``, ``next_update_at``, ``satisfaction_due_at``; call tasks' ``escalate_at``),
taken in batches with ``SELECT ... FOR UPDATE SKIP LOCKED``: two beats, or a sweep and an agent
saving the same commitment, never wait for each other and never take the same row. Within one
transaction per batch the sweep moves each row's time column past ``now`` (so the row leaves the
scan), writes its messages and timeline events (with ``COPY`` on PostgreSQL), and updates the
batch with one statement: the queries grow per batch, never per commitment. Teams, owners, leads
and working hours are read once per run, for all its batches.

Every message carries an idempotency key naming its cycle (the due time, the scheduled moment,
the fulfilment): should the same cycle ever be handled twice, the second insert is a no-op.
"""

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from django.db import connection, transaction
from django.db.models import ForeignKey, Model, QuerySet
from django.db.models.base import ModelState
from django.utils import timezone

from accounts.models import Membership, Team, User
from commitments.models import ACTIVE_STATUSES, RUNNING_STATUSES, Channel, Commitment, Customer, Status, TimelineEvent
from commitments.schedule import (
    WorkingHours,
    escalation_steps,
    next_escalation_time,
    next_missed_reminder,
    working_hours_of,
)
from commitments.services import automatic
from commitments.services.batches import save_changes
from notifications import outbox, routing
from notifications.models import MessageKind, Notification

logger = logging.getLogger(__name__)

# Commitments claimed and handled in one transaction. Big enough that the few statements a batch
# costs are shared by many; small enough that a batch holds its locks for well under a second.
BATCH_SIZE = 2000

Row = TypeVar("Row", Commitment, Notification)


class Staff:
    """The teams, owners, team leads and working hours a run needs, each read once for every batch."""

    def __init__(self) -> None:
        self.teams: dict[int, Team] = {}
        self.users: dict[int, User] = {}
        self.leads: dict[int, list[User]] = {}
        self.hours: dict[int, WorkingHours] = {}

    def attach(self, commitments: list[Commitment], *, leads: bool = False, hours: bool = False) -> None:
        """Give each commitment its team and owner; read leads and working hours where asked."""
        team_ids = {commitment.team_id for commitment in commitments}
        if missing := team_ids - self.teams.keys():
            self.teams.update(Team.objects.in_bulk(missing))
        if missing := {commitment.owner_id for commitment in commitments} - self.users.keys():
            self.users.update(User.objects.in_bulk(missing))
        if leads and (missing := team_ids - self.leads.keys()):
            self.leads.update({team_id: [] for team_id in missing})
            memberships = Membership.objects.filter(
                team_id__in=missing, role=Membership.Role.LEAD, user__is_active=True
            ).select_related("user")
            for membership in memberships:
                user = self.users.setdefault(membership.user_id, membership.user)
                self.leads[membership.team_id].append(user)
        if hours and (missing := team_ids - self.hours.keys()):
            self.hours.update(working_hours_of(self.teams[team_id] for team_id in missing))
        team = cast("ForeignKey[Any, Any]", Commitment._meta.get_field("team"))
        owner = cast("ForeignKey[Any, Any]", Commitment._meta.get_field("owner"))
        for commitment in commitments:
            team.set_cached_value(commitment, self.teams[commitment.team_id])
            owner.set_cached_value(commitment, self.users[commitment.owner_id])


class Run:
    """One run of the sweeps: its moment, the staff its batches share, and who to tell of a backlog."""

    def __init__(self, now: datetime, on_backlog: Callable[[], None] | None = None) -> None:
        self.now = now
        self.staff = Staff()
        self._on_backlog = on_backlog

    def found_backlog(self) -> None:
        """A claim came back full, so more may wait behind it: say so, once per run."""
        if self._on_backlog is not None:
            on_backlog, self._on_backlog = self._on_backlog, None
            on_backlog()


def run_sweeps(now: datetime | None = None, *, on_backlog: Callable[[], None] | None = None) -> dict[str, int]:
    """Run every sweep once; return how many commitments (or call tasks) each one handled.

    ``on_backlog`` is called (once) as soon as a claim takes a full batch, before that batch is
    handled: the Celery task asks another worker to sweep alongside it (SKIP LOCKED shares the
    batches out), so a backlog after an outage is swept by every free worker at once.
    """
    run = Run(now or timezone.now(), on_backlog)
    sweeps: dict[str, tuple[QuerySet[Any], Callable[[list[Any], Run], None], Callable[[QuerySet[Any]], list[Any]]]] = {
        "missed": (_missed_due(run.now), _mark_missed, _with_customers),
        "escalations": (_escalations_due(run.now), _escalate, _with_customers),
        "status_updates": (_updates_due(run.now), _send_automatic_updates, _with_customers),
        "satisfaction_checks": (_satisfaction_due(run.now), _ask_satisfaction, _with_customers),
        "call_task_escalations": (_call_tasks_due(run.now), _escalate_call_tasks, list),
    }
    due = _with_work({name: query for name, (query, _, _) in sweeps.items()})
    counts = {
        name: _sweep(query, handle, run, load=load) if name in due else 0
        for name, (query, handle, load) in sweeps.items()
    }
    if any(counts.values()):
        logger.info("Sweeps at %s: %s", run.now.isoformat(), counts)
    return counts


def _with_work(due: dict[str, QuerySet[Any]]) -> set[str]:
    """The sweeps that have anything due, asked in one statement: a run with nothing to do is one query.

    Each sweep's first due row, in its own order: the planner walks the sweep's index for it, where
    an ``EXISTS`` (which drops the order) may scan the whole table when its statistics are stale.
    """
    probes: list[str] = []
    params: list[Any] = []
    for query in due.values():
        sql, query_params = query.values("pk")[:1].query.sql_with_params()
        probes.append(f"({sql})")
        params.extend(query_params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(probes)}", params)
        found = cursor.fetchone()
    return {name for name, first in zip(due, found, strict=True) if first is not None}


# --- What is due (each an indexed range scan) -----------------------------------------------


def _missed_due(now: datetime) -> QuerySet[Commitment]:
    return Commitment.objects.filter(status__in=RUNNING_STATUSES, due_at__lte=now).order_by("due_at")


def _escalations_due(now: datetime) -> QuerySet[Commitment]:
    return Commitment.objects.filter(status__in=ACTIVE_STATUSES, next_escalation_at__lte=now).order_by(
        "next_escalation_at"
    )


def _updates_due(now: datetime) -> QuerySet[Commitment]:
    return Commitment.objects.filter(status__in=ACTIVE_STATUSES, next_update_at__lte=now).order_by("next_update_at")


def _satisfaction_due(now: datetime) -> QuerySet[Commitment]:
    return Commitment.objects.filter(status=Status.FULFILLED, satisfaction_due_at__lte=now).order_by(
        "satisfaction_due_at"
    )


def _call_tasks_due(now: datetime) -> QuerySet[Notification]:
    return (
        Notification.objects.select_related("commitment__customer")
        .defer("body", "html_body", "layout")
        .filter(escalate_at__lte=now)
        .order_by("escalate_at")
    )


def _with_customers(due: QuerySet[Commitment]) -> list[Commitment]:
    """The commitments with their customers (team and owner come from the run's ``Staff``).

    Built the way unpickling builds model instances: Django's ``Model.__init__`` sets each of some
    forty columns through the model's machinery and sends two signals per instance (no receiver
    listens for these models), which cost more than the rest of reading a batch.
    """
    commitment_columns = [field.attname for field in Commitment._meta.concrete_fields]
    customer_columns = [field.attname for field in Customer._meta.concrete_fields]
    rows = due.values_list(*commitment_columns, *(f"customer__{name}" for name in customer_columns))
    split, db = len(commitment_columns), due.db
    customer = cast("ForeignKey[Any, Any]", Commitment._meta.get_field("customer"))
    loaded = []
    for row in rows:
        commitment = _instance(Commitment, commitment_columns, row[:split], db)
        customer.set_cached_value(commitment, _instance(Customer, customer_columns, row[split:], db))
        loaded.append(commitment)
    return loaded


M = TypeVar("M", bound=Model)


def _instance(model: type[M], columns: list[str], values: tuple[Any, ...], db: str) -> M:
    instance = model.__new__(model)
    instance.__dict__.update(zip(columns, values, strict=True))
    instance._state = ModelState()
    instance._state.adding, instance._state.db = False, db
    return instance


# --- The batch loop -------------------------------------------------------------------------


def _sweep(
    due: QuerySet[Row],
    handle: Callable[[list[Row], Run], None],
    run: Run,
    *,
    load: Callable[[QuerySet[Row]], list[Row]],
) -> int:
    """Claim due rows a batch at a time, each batch in its own short transaction.

    Each claim starts where the last one ended (its time column ``>=`` the last row's): the rows
    behind it have just been moved out of range, and their old index entries, dead now, would
    otherwise be walked again by every later claim (a row skipped there because someone else held
    it goes in the next run, as it would have before). Once the run is done, one probe walks them a
    last time, so that PostgreSQL marks them dead in the index and beat's next tick, with nothing
    to do, stays one short query instead of stepping over a whole catch-up's worth of them.

    A row that cannot be handled (a bug, bad data) must not hold back every other one: when a batch
    fails, its rows are handled one by one, the failing one is logged and left for the next run.
    """
    skip_locked = connection.features.has_select_for_update_skip_locked
    [order] = due.query.order_by  # The time column; the claim walks its index in this order.
    handled = 0
    seen: set[int] = set()
    failed: set[int] = set()
    after: datetime | None = None
    while True:
        with transaction.atomic():
            claim = due.exclude(pk__in=failed) if failed else due
            if after is not None:
                claim = claim.filter(**{f"{order}__gte": after})
            batch = load(claim.select_for_update(skip_locked=skip_locked, of=("self",))[:BATCH_SIZE])
            if not batch:
                break
            if seen.intersection(row.pk for row in batch):
                # A handler that left a row in range would loop forever: stop and say so.
                logger.error("Sweep %s saw rows again: %s", handle.__name__, sorted(seen)[:10])
                break
            seen.update(row.pk for row in batch)
            after = getattr(batch[-1], str(order))  # Before the handler moves it.
            try:
                with transaction.atomic():
                    handle(batch, run)
                handled += len(batch)
            except Exception:
                logger.exception("Sweep %s failed on a batch; handling its rows one by one", handle.__name__)
                handled += _one_by_one(due, [row.pk for row in batch], handle, run=run, load=load, failed=failed)
        if len(batch) < BATCH_SIZE:
            break
        run.found_backlog()  # After the commit: asking the broker never holds the batch's locks.
    if seen:
        list(due.values_list("pk", flat=True)[:1])  # The probe that leaves the index clean (see above).
    return handled


def _one_by_one(
    due: QuerySet[Row],
    pks: list[int],
    handle: Callable[[list[Row], Run], None],
    *,
    run: Run,
    load: Callable[[QuerySet[Row]], list[Row]],
    failed: set[int],
) -> int:
    handled = 0
    for pk in pks:
        try:
            with transaction.atomic():
                handle(load(due.filter(pk=pk)), run)  # A fresh copy: the failed try changed the old one.
            handled += 1
        except Exception:
            logger.exception("Sweep %s could not handle %s #%s", handle.__name__, due.model.__name__, pk)
            failed.add(pk)
    return handled


# --- Missed ---------------------------------------------------------------------------------


def _mark_missed(batch: list[Commitment], run: Run) -> None:
    """Past due and not fulfilled: missed. The customer gets an apology, owner and lead an escalation.

    The apology counts as hearing from us (updates go on one interval later), and owner and lead
    are reminded every update interval until it is rescheduled, fulfilled or cancelled.
    """
    now = run.now
    run.staff.attach(batch, leads=True, hours=True)
    hours, leads = run.staff.hours, run.staff.leads
    out = outbox.Outgoing(now=now, hours=hours, bulk=True)
    steps = len(escalation_steps())
    for commitment in batch:
        cycle = stamp(commitment.due_at)
        automatic.mark_missed(
            commitment,
            now=now,
            escalations_sent=steps,
            next_reminder=next_missed_reminder(commitment, after=now, hours=hours[commitment.team_id]),
            update_sends_at=routing.send_time(commitment.customer, now),
        )
        out.event(
            commitment,
            TimelineEvent.Kind.MISSED,
            message="Not fulfilled by the due time.",
            data={"due_at": commitment.due_at.isoformat()},
        )
        out.to_customer(commitment, MessageKind.APOLOGY, key=f"{commitment.pk}:apology:{cycle}")
        told = _owner_and(leads[commitment.team_id], commitment)
        out.to_staff(
            commitment,
            MessageKind.ESCALATION,
            recipients=told,
            key=f"{commitment.pk}:escalation:missed:{cycle}",
            details={"occasion": "missed"},
        )
        _escalated(out, commitment, told, reason="missed", message="Missed: owner and team lead told.")
    automatic.save_missed(batch)
    out.save()


# --- The escalation ladder and missed reminders ---------------------------------------------


def _escalate(batch: list[Commitment], run: Run) -> None:
    """Warnings before due (owner at each step, the lead too at the last); reminders once missed."""
    now = run.now
    run.staff.attach(batch, leads=True, hours=True)
    hours, leads = run.staff.hours, run.staff.leads
    out = outbox.Outgoing(now=now, hours=hours, bulk=True)
    steps = escalation_steps()
    for commitment in batch:
        team_hours = hours[commitment.team_id]
        team_leads = leads[commitment.team_id]
        automatic.touch(commitment, now=now)
        if commitment.status == Status.MISSED:
            _remind_missed(out, commitment, team_leads, team_hours, now)
        elif commitment.status in RUNNING_STATUSES and commitment.due_at > now:
            while (
                commitment.escalations_sent < len(steps)
                and commitment.next_escalation_at is not None
                and commitment.next_escalation_at <= now
            ):
                _warn(out, commitment, team_leads, team_hours, now, steps=len(steps))
        else:
            automatic.stop_escalating(commitment)
    automatic.save_escalations(batch)
    out.save()


def _warn(
    out: outbox.Outgoing,
    commitment: Commitment,
    leads: list[User],
    hours: WorkingHours,
    now: datetime,
    *,
    steps: int,
) -> None:
    step = commitment.escalations_sent
    last = step == steps - 1
    told = _owner_and(leads, commitment) if last else [commitment.owner]
    out.to_staff(
        commitment,
        MessageKind.ESCALATION,
        recipients=told,
        key=f"{commitment.pk}:escalation:step{step + 1}:{stamp(commitment.due_at)}",
        details={"occasion": "warning", "step": step + 1, "last_step": last},
    )
    who = "owner and team lead" if last else "owner"
    _escalated(
        out,
        commitment,
        told,
        reason="warning",
        message=f"Warning {step + 1} of {steps} before the due time: {who} told.",
        step=step + 1,
    )
    automatic.step_warning_ladder(
        commitment, next_warning=lambda stepped: next_escalation_time(stepped, now=now, hours=hours)
    )


def _remind_missed(
    out: outbox.Outgoing, commitment: Commitment, leads: list[User], hours: WorkingHours, now: datetime
) -> None:
    assert commitment.next_escalation_at is not None
    told = _owner_and(leads, commitment)
    out.to_staff(
        commitment,
        MessageKind.ESCALATION,
        recipients=told,
        key=f"{commitment.pk}:escalation:reminder:{stamp(commitment.next_escalation_at)}",
        details={"occasion": "reminder"},
    )
    _escalated(out, commitment, told, reason="reminder", message="Still missed: owner and team lead reminded.")
    automatic.schedule_missed_reminder(
        commitment, next_reminder=next_missed_reminder(commitment, after=now, hours=hours)
    )


# --- Proactive status updates ---------------------------------------------------------------


def _send_automatic_updates(batch: list[Commitment], run: Run) -> None:
    """The customer hears from us every update interval, with or without news from the agent."""
    now = run.now
    run.staff.attach(batch, hours=_has_callers(batch))
    out = outbox.Outgoing(now=now, hours=run.staff.hours, bulk=True)
    kind = MessageKind.STATUS_UPDATE
    for commitment in batch:
        assert commitment.next_update_at is not None
        cycle = stamp(commitment.next_update_at)
        since = commitment.last_update_at or commitment.created_at
        # The message's way is asked once: the next update is timed from when this one reaches them.
        way = routing.route(commitment.customer, kind, at=now, automatic=True)
        automatic.restart_update_clock(commitment, now=now, sends_at=way.send_at)
        row = out.to_customer(
            commitment, kind, key=f"{commitment.pk}:status_update:auto:{cycle}", automatic=True, since=since, way=way
        )
        out.event(
            commitment,
            TimelineEvent.Kind.UPDATE_SENT,
            message="Automatic status update: nothing new since the last message to the customer.",
            data={
                "automatic": True,
                "since": since.isoformat(),
                "channel": row.channel,
                "kind": row.kind,
                "idempotency_key": row.idempotency_key,
            },
        )
    automatic.save_update_clocks(batch)
    out.save()


# --- Satisfaction checks --------------------------------------------------------------------


def _ask_satisfaction(batch: list[Commitment], run: Run) -> None:
    """Some time after fulfilment, ask the customer whether it is really solved."""
    now = run.now
    run.staff.attach(batch, hours=_has_callers(batch))
    out = outbox.Outgoing(now=now, hours=run.staff.hours, bulk=True)
    for commitment in batch:
        cycle = stamp(commitment.fulfilled_at or commitment.satisfaction_due_at or now)
        out.to_customer(commitment, MessageKind.SATISFACTION_CHECK, key=f"{commitment.pk}:satisfaction_check:{cycle}")
        automatic.clear_satisfaction_check(commitment, now=now)
    automatic.save_satisfaction_checks(batch)
    out.save()


# --- Call tasks not done --------------------------------------------------------------------


def _escalate_call_tasks(batch: list[Notification], run: Run) -> None:
    """A call task still not logged one update interval on goes to owner and lead, once per task."""
    run.staff.attach([task.commitment for task in batch if task.commitment], leads=True)
    leads = run.staff.leads
    out = outbox.Outgoing(now=run.now, bulk=True)
    for task in batch:
        commitment = task.commitment
        assert commitment is not None  # A call task is always about a commitment.
        if task.completed_at is None and commitment.status not in (Status.CANCELLED, Status.CONFIRMED):
            told = _owner_and(leads[commitment.team_id], commitment)
            out.to_staff(
                commitment,
                MessageKind.ESCALATION,
                recipients=told,
                key=f"{commitment.pk}:escalation:call_task:{task.pk}",
                details={"occasion": "call_not_made", "call_kind": task.customer_kind, "task_created": task.created_at},
            )
            _escalated(
                out,
                commitment,
                told,
                reason="call_not_made",
                message="Call task not done: owner and team lead told.",
                task=task.pk,
            )
        task.escalate_at = None
    save_changes(batch, ["escalate_at"])
    out.save()


# --- Shared pieces --------------------------------------------------------------------------


def stamp(moment: datetime) -> str:
    """A moment as it goes into an idempotency key: UTC, to the microsecond (``20261124T150000000000Z``)."""
    at = moment.astimezone(UTC)
    # %-formatting: the same digits at about half the cost of an f-string's format specs (a key a row).
    return "%04d%02d%02dT%02d%02d%02d%06dZ" % (  # noqa: UP031
        at.year,
        at.month,
        at.day,
        at.hour,
        at.minute,
        at.second,
        at.microsecond,
    )


def _has_callers(batch: list[Commitment]) -> bool:
    """Working hours are needed for call tasks only (when an undone one escalates)."""
    return any(commitment.customer.preferred_channel == Channel.PHONE for commitment in batch)


def _owner_and(leads: list[User], commitment: Commitment) -> list[User]:
    people = {commitment.owner_id: commitment.owner}
    for lead in leads:
        people.setdefault(lead.pk, lead)
    return list(people.values())


def _escalated(
    out: outbox.Outgoing, commitment: Commitment, told: list[User], *, reason: str, message: str, **data: object
) -> None:
    out.event(
        commitment,
        TimelineEvent.Kind.ESCALATED,
        message=message,
        data={"reason": reason, "to": [user.get_username() for user in told], **data},
    )
