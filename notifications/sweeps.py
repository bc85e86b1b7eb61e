"""The periodic sweeps: commitments whose next action has come become outbox rows.

Each sweep is an indexed range scan over one of the commitment's time columns (``due_at``,
``next_escalation_at``, ``next_update_at``, ``satisfaction_due_at``; call tasks' ``escalate_at``),
taken in batches with ``SELECT ... FOR UPDATE SKIP LOCKED``: two beats, or a sweep and an agent
saving the same commitment, never wait for each other and never take the same row. Within one
transaction per batch the sweep moves each row's time column past ``now`` (so the row leaves the
scan), writes its messages and timeline events with one insert each, and updates the batch with
one statement: the queries grow per batch, never per commitment.

Every message carries an idempotency key naming its cycle (the due time, the scheduled moment,
the fulfilment): should the same cycle ever be handled twice, the second insert is a no-op.
"""

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from django.db import connection, transaction
from django.db.models import Field, QuerySet
from django.utils import timezone

from accounts.models import Membership, User
from commitments.models import ACTIVE_STATUSES, RUNNING_STATUSES, Channel, Commitment, Status, TimelineEvent
from commitments.schedule import (
    WorkingHours,
    escalation_steps,
    next_escalation_time,
    next_missed_reminder,
    working_hours_of,
)
from notifications import outbox
from notifications.models import Kind, Notification

logger = logging.getLogger(__name__)

BATCH_SIZE = 500

Row = TypeVar("Row", Commitment, Notification)

# Columns each sweep writes back, in one UPDATE per batch.
MISSED_FIELDS = [
    "status",
    "missed_at",
    "last_update_at",
    "next_update_at",
    "escalations_sent",
    "next_escalation_at",
    "updated_at",
]
ESCALATION_FIELDS = ["escalations_sent", "next_escalation_at", "updated_at"]
UPDATE_FIELDS = ["last_update_at", "next_update_at", "updated_at"]
SATISFACTION_FIELDS = ["satisfaction_due_at", "updated_at"]


def run_sweeps(now: datetime | None = None) -> dict[str, int]:
    """Run every sweep once; return how many commitments (or call tasks) each one handled."""
    now = now or timezone.now()
    counts = {
        "missed": _sweep(_missed_due(now), _mark_missed, now=now),
        "escalations": _sweep(_escalations_due(now), _escalate, now=now),
        "status_updates": _sweep(_updates_due(now), _send_automatic_updates, now=now),
        "satisfaction_checks": _sweep(_satisfaction_due(now), _ask_satisfaction, now=now),
        "call_task_escalations": _sweep(_call_tasks_due(now), _escalate_call_tasks, now=now),
    }
    if any(counts.values()):
        logger.info("Sweeps at %s: %s", now.isoformat(), counts)
    return counts


# --- What is due (each an indexed range scan) -----------------------------------------------


def _commitments() -> QuerySet[Commitment]:
    return Commitment.objects.select_related("customer", "team", "owner")


def _missed_due(now: datetime) -> QuerySet[Commitment]:
    return _commitments().filter(status__in=RUNNING_STATUSES, due_at__lte=now).order_by("due_at")


def _escalations_due(now: datetime) -> QuerySet[Commitment]:
    return _commitments().filter(status__in=ACTIVE_STATUSES, next_escalation_at__lte=now).order_by("next_escalation_at")


def _updates_due(now: datetime) -> QuerySet[Commitment]:
    return _commitments().filter(status__in=ACTIVE_STATUSES, next_update_at__lte=now).order_by("next_update_at")


def _satisfaction_due(now: datetime) -> QuerySet[Commitment]:
    return _commitments().filter(status=Status.FULFILLED, satisfaction_due_at__lte=now).order_by("satisfaction_due_at")


def _call_tasks_due(now: datetime) -> QuerySet[Notification]:
    return (
        Notification.objects.select_related("commitment__customer", "commitment__team", "commitment__owner")
        .filter(escalate_at__lte=now)
        .order_by("escalate_at")
    )


# --- The batch loop -------------------------------------------------------------------------


def _sweep(due: QuerySet[Row], handle: Callable[[list[Row], datetime], None], *, now: datetime) -> int:
    """Claim due rows a batch at a time, each batch in its own short transaction.

    A row that cannot be handled (a bug, bad data) must not hold back every other one: when a batch
    fails, its rows are handled one by one, the failing one is logged and left for the next run.
    """
    skip_locked = connection.features.has_select_for_update_skip_locked
    handled = 0
    seen: set[int] = set()
    failed: set[int] = set()
    while True:
        with transaction.atomic():
            claim = due.exclude(pk__in=failed) if failed else due
            batch = list(claim.select_for_update(skip_locked=skip_locked, of=("self",))[:BATCH_SIZE])
            if not batch:
                break
            if seen.intersection(row.pk for row in batch):
                # A handler that left a row in range would loop forever: stop and say so.
                logger.error("Sweep %s saw rows again: %s", handle.__name__, sorted(seen)[:10])
                break
            seen.update(row.pk for row in batch)
            try:
                with transaction.atomic():
                    handle(batch, now)
                handled += len(batch)
            except Exception:
                logger.exception("Sweep %s failed on a batch; handling its rows one by one", handle.__name__)
                handled += _one_by_one(due, [row.pk for row in batch], handle, now=now, failed=failed)
        if len(batch) < BATCH_SIZE:
            break
    return handled


def _one_by_one(
    due: QuerySet[Row],
    pks: list[int],
    handle: Callable[[list[Row], datetime], None],
    *,
    now: datetime,
    failed: set[int],
) -> int:
    handled = 0
    for pk in pks:
        try:
            with transaction.atomic():
                handle(list(due.filter(pk=pk)), now)  # A fresh copy: the failed try changed the old one.
            handled += 1
        except Exception:
            logger.exception("Sweep %s could not handle %s #%s", handle.__name__, due.model.__name__, pk)
            failed.add(pk)
    return handled


# --- Missed ---------------------------------------------------------------------------------


def _mark_missed(batch: list[Commitment], now: datetime) -> None:
    """Past due and not fulfilled: missed. The customer gets an apology, owner and lead an escalation.

    The apology counts as hearing from us (updates go on one interval later), and owner and lead
    are reminded every update interval until it is rescheduled, fulfilled or cancelled.
    """
    hours = working_hours_of(_teams(batch))
    leads = _leads_by_team(batch)
    out = outbox.Outgoing(now=now, hours=hours)
    steps = len(escalation_steps())
    for commitment in batch:
        cycle = stamp(commitment.due_at)
        commitment.status = Status.MISSED
        commitment.missed_at = now
        commitment.escalations_sent = steps
        commitment.next_escalation_at = next_missed_reminder(commitment, after=now, hours=hours[commitment.team_id])
        sends_at = outbox.send_time(commitment.customer, now)
        commitment.last_update_at = now
        commitment.next_update_at = sends_at + commitment.update_interval
        commitment.updated_at = now
        out.event(
            commitment,
            TimelineEvent.Kind.MISSED,
            message="Not fulfilled by the due time.",
            data={"due_at": commitment.due_at.isoformat()},
        )
        out.to_customer(commitment, Kind.APOLOGY, key=f"{commitment.pk}:apology:{cycle}")
        told = _owner_and(leads.get(commitment.team_id, []), commitment)
        out.to_staff(
            commitment,
            Kind.ESCALATION,
            recipients=told,
            key=f"{commitment.pk}:escalation:missed:{cycle}",
            details={"occasion": "missed"},
        )
        _escalated(out, commitment, told, reason="missed", message="Missed: owner and team lead told.")
    save_changes(batch, MISSED_FIELDS)
    out.save()


# --- The escalation ladder and missed reminders ---------------------------------------------


def _escalate(batch: list[Commitment], now: datetime) -> None:
    """Warnings before due (owner at each step, the lead too at the last); reminders once missed."""
    hours = working_hours_of(_teams(batch))
    leads = _leads_by_team(batch)
    out = outbox.Outgoing(now=now, hours=hours)
    steps = escalation_steps()
    for commitment in batch:
        team_hours = hours[commitment.team_id]
        team_leads = leads.get(commitment.team_id, [])
        commitment.updated_at = now
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
            # Waiting (its clock is paused) or already past due (the missed sweep takes it).
            commitment.next_escalation_at = None
    save_changes(batch, ESCALATION_FIELDS)
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
        Kind.ESCALATION,
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
    commitment.escalations_sent = step + 1
    commitment.next_escalation_at = next_escalation_time(commitment, now=now, hours=hours)


def _remind_missed(
    out: outbox.Outgoing, commitment: Commitment, leads: list[User], hours: WorkingHours, now: datetime
) -> None:
    assert commitment.next_escalation_at is not None
    told = _owner_and(leads, commitment)
    out.to_staff(
        commitment,
        Kind.ESCALATION,
        recipients=told,
        key=f"{commitment.pk}:escalation:reminder:{stamp(commitment.next_escalation_at)}",
        details={"occasion": "reminder"},
    )
    _escalated(out, commitment, told, reason="reminder", message="Still missed: owner and team lead reminded.")
    commitment.next_escalation_at = next_missed_reminder(commitment, after=now, hours=hours)


# --- Proactive status updates ---------------------------------------------------------------


def _send_automatic_updates(batch: list[Commitment], now: datetime) -> None:
    """The customer hears from us every update interval, with or without news from the agent."""
    out = outbox.Outgoing(now=now, hours=_hours_if_calls(batch))
    for commitment in batch:
        assert commitment.next_update_at is not None
        cycle = stamp(commitment.next_update_at)
        since = commitment.last_update_at or commitment.created_at
        sends_at = outbox.send_time(commitment.customer, now)
        commitment.last_update_at = now
        commitment.next_update_at = sends_at + commitment.update_interval
        commitment.updated_at = now
        row = out.to_customer(
            commitment,
            Kind.STATUS_UPDATE,
            key=f"{commitment.pk}:status_update:auto:{cycle}",
            automatic=True,
            since=since,
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
    save_changes(batch, UPDATE_FIELDS)
    out.save()


# --- Satisfaction checks --------------------------------------------------------------------


def _ask_satisfaction(batch: list[Commitment], now: datetime) -> None:
    """Some time after fulfilment, ask the customer whether it is really solved."""
    out = outbox.Outgoing(now=now, hours=_hours_if_calls(batch))
    for commitment in batch:
        cycle = stamp(commitment.fulfilled_at or commitment.satisfaction_due_at or now)
        out.to_customer(commitment, Kind.SATISFACTION_CHECK, key=f"{commitment.pk}:satisfaction_check:{cycle}")
        commitment.satisfaction_due_at = None
        commitment.updated_at = now
    save_changes(batch, SATISFACTION_FIELDS)
    out.save()


# --- Call tasks not done --------------------------------------------------------------------


def _escalate_call_tasks(batch: list[Notification], now: datetime) -> None:
    """A call task still not logged one update interval on goes to owner and lead, once per task."""
    commitments = [task.commitment for task in batch]
    leads = _leads_by_team(commitments)
    out = outbox.Outgoing(now=now)
    for task in batch:
        commitment = task.commitment
        if task.completed_at is None and commitment.status not in (Status.CANCELLED, Status.CONFIRMED):
            told = _owner_and(leads.get(commitment.team_id, []), commitment)
            out.to_staff(
                commitment,
                Kind.ESCALATION,
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


def save_changes(batch: list[Row], fields: list[str]) -> None:
    """Write these columns of the whole batch back in one statement.

    On PostgreSQL, ``UPDATE ... FROM (VALUES ...)``: Django's ``bulk_update`` says the same with a
    ``CASE`` per column and row, which costs more to build than the sweep spends on everything else.
    """
    if not batch:
        return
    if connection.vendor != "postgresql":
        type(batch[0])._default_manager.bulk_update(batch, fields)
        return
    meta = batch[0]._meta
    quote = connection.ops.quote_name
    columns: list[Field[Any, Any]] = [meta.pk]
    columns.extend(cast("Field[Any, Any]", meta.get_field(name)) for name in fields)
    casts = ", ".join(f"%s::{column.db_type(connection)}" for column in columns)
    values = ", ".join([f"({casts})"] * len(batch))
    params = [column.get_db_prep_save(getattr(row, column.attname), connection) for row in batch for column in columns]
    names = ", ".join(quote(str(column.column)) for column in columns)
    assignments = ", ".join(f"{quote(str(column.column))} = v.{quote(str(column.column))}" for column in columns[1:])
    table, pk = quote(meta.db_table), quote(str(meta.pk.column))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v ({names}) WHERE {table}.{pk} = v.{pk}",  # noqa: S608
            params,
        )


def stamp(moment: datetime) -> str:
    """A moment as it goes into an idempotency key: UTC, to the microsecond."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _teams(batch: Iterable[Commitment]) -> list:
    return list({commitment.team_id: commitment.team for commitment in batch}.values())


def _hours_if_calls(batch: list[Commitment]) -> dict[int, WorkingHours]:
    """Working hours are needed for call tasks only (when an undone one escalates)."""
    callers = [commitment for commitment in batch if commitment.customer.preferred_channel == Channel.PHONE]
    return working_hours_of(_teams(callers)) if callers else {}


def _leads_by_team(batch: Iterable[Commitment]) -> dict[int, list[User]]:
    team_ids = {commitment.team_id for commitment in batch}
    leads: dict[int, list[User]] = {}
    memberships = Membership.objects.filter(
        team_id__in=team_ids, role=Membership.Role.LEAD, user__is_active=True
    ).select_related("user")
    for membership in memberships:
        leads.setdefault(membership.team_id, []).append(membership.user)
    return leads


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
