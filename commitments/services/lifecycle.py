"""The commitment's lifecycle: created, edited, updated, rescheduled, handed off, waiting, resumed,
fulfilled, chased, confirmed, reopened, cancelled.

Each service locks the commitment, checks that the move is allowed, changes it, appends to its
timeline and puts the messages it causes in the outbox, all in one transaction.
"""

from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, FilteredRelation, OuterRef, Q
from django.utils import timezone

from accounts.models import Holiday, Membership, Team, User
from commitments.errors import IllegalMove, InvalidInput
from commitments.models import (
    ACTIVE_STATUSES,
    STATUS_PHRASES,
    Channel,
    Commitment,
    Customer,
    Status,
    Temperature,
    TimelineEvent,
)
from commitments.schedule import WorkingHours, plan_escalations
from commitments.services.customers import CustomerDetails, clean_customer_details, upsert_customer
from commitments.services.inputs import clean_future, clean_text, clean_update_interval, collect
from commitments.services.permissions import MOVES, _ensure_team_member, ensure_can_act
from commitments.services.search_text import SEARCHED_FIELDS, keep_searchable
from commitments.services.timeline import record_event
from commitments.status_links import issue_status_link
from followthrough import kept_statements
from followthrough.durations import format_duration
from notifications import outbox, routing
from notifications.models import MessageKind


def _locked(commitment: Commitment) -> Commitment:
    return (
        Commitment.objects.select_for_update(of=("self",))
        .select_related("customer", "team", "owner", "assignee")
        .get(pk=commitment.pk)
    )


def _start(move: str, commitment: Commitment, *, actor: User | None) -> Commitment:
    """How a move begins: the commitment locked for this transaction, the actor allowed to act on it
    (None: the customer, through their own side), and the move allowed from its status."""
    commitment = _locked(commitment)
    if actor is not None:
        ensure_can_act(actor, commitment)
    _require_move(commitment, move)
    return commitment


def _require_move(commitment: Commitment, move: str) -> None:
    allowed, verb = MOVES[move]
    if commitment.status not in allowed:
        status = STATUS_PHRASES.get(commitment.status, commitment.status)
        raise IllegalMove(f"This commitment is {status}, so it cannot be {verb}.")


def _told_customer(commitment: Commitment, now: datetime) -> None:
    """The customer just heard from us: the next proactive update is one interval after they get it.

    A text made in the customer's night reaches them in the morning, so the interval counts from then.
    """
    commitment.last_update_at = now
    commitment.next_update_at = routing.send_time(commitment.customer, now) + commitment.update_interval


def _team_leads(commitment: Commitment) -> list[User]:
    return list(User.objects.filter(memberships__team_id=commitment.team_id, memberships__role="lead", is_active=True))


def _owner_and_assignee(commitment: Commitment) -> list[User]:
    return list({commitment.owner_id: commitment.owner, commitment.assignee_id: commitment.assignee}.values())


def _owner_and_leads(commitment: Commitment) -> list[User]:
    people = {commitment.owner_id: commitment.owner}
    for lead in _team_leads(commitment):
        people.setdefault(lead.pk, lead)
    return list(people.values())


# --- Use cases ------------------------------------------------------------------------------


@transaction.atomic
def create_commitment(
    *,
    actor: User,
    customer: CustomerDetails,
    summary: str,
    due_at: datetime | None,
    details: str = "",
    owner: User | None = None,
    team: Team | int | None = None,
    update_interval: timedelta | None = None,
    external_ref: str = "",
    target_at: datetime | None = None,
    temperature: str = Temperature.CALM,
) -> Commitment:
    """Log a promise: the customer is acknowledged at once and the follow-through clock starts.

    Given only the owner's own target, the time promised to the customer is the target plus the
    buffer that owner's history calls for (``commitments.promises``).

    ``team`` may be given by id (the API's way): the team is then read with its memberships, and
    an id that names no team raises ``Team.DoesNotExist`` before anything is written.
    """
    now = timezone.now()
    errors: dict[str, Any] = {}
    owner = owner or actor
    team_row, holidays = _resolve_team(actor=actor, owner=owner, team=team, errors=errors)
    customer_row: Customer | None = None
    if due_at is None and target_at is not None and timezone.is_aware(target_at) and target_at > now:
        from commitments import promises

        due_at = promises.propose_promise(owner=owner, team=team_row, target_at=target_at, now=now).promised_at
    if temperature not in Temperature.values:
        errors["temperature"] = [f"Choose one of: {', '.join(Temperature.values)}."]
    try:
        if team_row is not None:
            # Written without a savepoint of its own: should it fail, errors is not empty and this
            # transaction is rolled back below, before anything else is asked of the database.
            customer_row = upsert_customer(customer, team=team_row)
        else:  # No team to file the customer under: still report every bad detail at once.
            clean_customer_details(customer)
    except InvalidInput as error:
        errors["customer"] = error.errors
    summary = collect(errors, lambda: clean_text(summary, "summary", required="Say what was promised.", limit=300))
    details = collect(errors, lambda: clean_text(details, "details"))
    external_ref = collect(errors, lambda: clean_text(external_ref, "external_ref", limit=200))
    due_at = collect(errors, lambda: clean_future(due_at, "due_at", now))
    interval = collect(errors, lambda: clean_update_interval(update_interval))
    if target_at is not None:
        target_at = collect(errors, lambda: clean_future(target_at, "target_at", now, what="The internal target"))
        if target_at is not None and due_at is not None and target_at > due_at:
            errors["target_at"] = ["The internal target must be no later than the time promised to the customer."]
    if not owner.is_active:
        errors["owner"] = ["This person's account is switched off: choose someone else."]
    if errors:
        raise InvalidInput(errors)  # Leaving the transaction rolls back the customer too.
    assert customer_row is not None and team_row is not None and due_at is not None
    if temperature == Temperature.UPSET:
        interval = min(interval, team_row.upset_update_interval)
    commitment = Commitment(
        customer=customer_row,
        team=team_row,
        owner=owner,
        assignee=owner,
        created_by=actor,
        summary=summary,
        details=details,
        external_ref=external_ref,
        due_at=due_at,
        promised_at=due_at,
        target_at=target_at,
        update_interval=interval,
        temperature=temperature,
        created_at=now,
    )
    hours = WorkingHours.of(team_row, holidays)
    issue_status_link(commitment)
    _told_customer(commitment, now)
    plan_escalations(commitment, now=now, hours=hours)
    kept_statements.insert(commitment)
    keep_searchable([commitment])
    event = record_event(
        commitment,
        TimelineEvent.Kind.CREATED,
        actor=actor,
        message=commitment.summary,
        data={"due_at": due_at.isoformat(), "owner": owner.get_username(), "channel": customer_row.preferred_channel},
        at=now,
    )
    # The acknowledgement's key names the event just written, so no message can have it yet: it goes
    # straight into the outbox (outbox.notify_customer would first look for the key, then read the
    # rows back), with the team's working hours already read for a call task's escalation.
    acknowledgement = outbox.Outgoing(now=now, hours={team_row.pk: hours})
    acknowledgement.to_customer(
        commitment, MessageKind.ACKNOWLEDGEMENT, key=f"{commitment.pk}:acknowledgement:{event.pk}"
    )
    acknowledgement.save()
    return commitment


def _resolve_team(
    *, actor: User, owner: User, team: Team | int | None, errors: dict[str, Any]
) -> tuple[Team | None, list[date]]:
    """The team the promise is filed under, checked against actor and owner, and that team's holidays.

    A team given (by id, or as read by a form) costs one query, none given two: logging a promise is
    the busiest write there is.
    """
    if team is not None:
        team_id = team if isinstance(team, int) else team.pk
        read, members, holidays = _team_members_and_holidays(team_id, people={actor.pk, owner.pk})
        team = read if isinstance(team, int) else team
        if not actor.is_superuser and actor.pk not in members:
            errors["team"] = ["You are not a member of this team."]
            return None, []
        if owner.pk not in members:
            errors["owner"] = ["The owner is not a member of this team."]
            return None, []
        return team, holidays
    choices = list(
        Team.objects.filter(memberships__user=owner).annotate(
            actor_is_member=Exists(Membership.objects.filter(team=OuterRef("pk"), user=actor))
        )
    )
    if not choices:
        errors["owner"] = ["The owner is not a member of any team."]
        return None, []
    if len(choices) > 1:
        errors["team"] = ["The owner is in several teams: choose one."]
        return None, []
    if not actor.is_superuser and not choices[0].actor_is_member:
        errors["owner"] = ["The owner is not in any of your teams."]
        return None, []
    return choices[0], list(choices[0].holidays.values_list("date", flat=True))


def _team_members_and_holidays(team_id: int, *, people: set[int]) -> tuple[Team, set[int], list[date]]:
    """The team with this id, which of ``people`` are its members, and its holidays: one query.

    The team's row comes once for each pairing of a member among ``people`` (at most two) with a
    holiday: a few rows, where a query of each would cost a round trip more.
    """
    if kept_statements.in_use():
        with connection.cursor() as cursor:
            cursor.execute(_team_members_and_holidays_statement(), {"team": team_id, "people": sorted(people)})
            row = cursor.fetchone()
        if row is None:
            raise Team.DoesNotExist(f"No team has the id {team_id}.")
        *team_values, members, holidays = row
        return kept_statements.instance_from_row(Team, team_values), set(members), holidays
    columns = [field.attname for field in Team._meta.concrete_fields]
    rows = list(
        Team.objects.filter(pk=team_id)
        .order_by()
        .annotate(chosen=FilteredRelation("memberships", condition=Q(memberships__user_id__in=people)))
        .values_list(*columns, "chosen__user_id", "holidays__date")
    )
    if not rows:
        raise Team.DoesNotExist(f"No team has the id {team_id}.")
    team = Team.from_db(Team.objects.db, columns, rows[0][: len(columns)])
    members = {row[-2] for row in rows if row[-2] is not None}
    return team, members, sorted({row[-1] for row in rows if row[-1] is not None})


@cache
def _team_members_and_holidays_statement() -> str:
    """``_team_members_and_holidays``'s query on PostgreSQL, written once: built by the ORM (a filtered
    join, a values list) on each call it cost more Python than any other statement of logging a promise.
    One row: the team, then which of the people are its members, then its holidays in order."""
    quote = connection.ops.quote_name
    team_id, user_id, date = quote("team_id"), quote("user_id"), quote("date")
    return (
        f"SELECT {kept_statements.columns_of(Team, 't')}, "  # noqa: S608 - our own names
        f"ARRAY(SELECT m.{user_id} FROM {quote(Membership._meta.db_table)} m "
        f"WHERE m.{team_id} = t.{quote('id')} AND m.{user_id} = ANY(%(people)s)), "
        f"ARRAY(SELECT h.{date} FROM {quote(Holiday._meta.db_table)} h "
        f"WHERE h.{team_id} = t.{quote('id')} ORDER BY h.{date}) "
        f"FROM {quote(Team._meta.db_table)} t WHERE t.{quote('id')} = %(team)s"
    )


@transaction.atomic
def edit_commitment(
    *,
    actor: User,
    commitment: Commitment,
    summary: str | None = None,
    details: str | None = None,
    update_interval: timedelta | None = None,
    target_at: datetime | None = None,
    clear_target: bool = False,
    temperature: str | None = None,
) -> Commitment:
    """Correct what was promised or how it is followed; the due time moves only by reschedule."""
    commitment = _start("edit", commitment, actor=actor)
    now = timezone.now()
    errors: dict[str, Any] = {}
    changes: dict[str, list[str]] = {}
    if summary is not None:
        summary = collect(errors, lambda: clean_text(summary, "summary", required="Say what was promised.", limit=300))
        if summary is not None and summary != commitment.summary:
            changes["summary"] = [commitment.summary, summary]
            commitment.summary = summary
    if details is not None:
        details = collect(errors, lambda: clean_text(details, "details"))
        if details is not None and details != commitment.details:
            changes["details"] = [commitment.details, details]
            commitment.details = details
    if update_interval is not None:
        interval = collect(errors, lambda: clean_update_interval(update_interval))
        if interval is not None and interval != commitment.update_interval:
            changes["update_interval"] = [format_duration(commitment.update_interval), format_duration(interval)]
            commitment.update_interval = interval
            if commitment.status in ACTIVE_STATUSES:
                base = commitment.last_update_at or now
                commitment.next_update_at = max(base + interval, now)
    if temperature is not None and temperature != commitment.temperature:
        if temperature not in Temperature.values:
            errors["temperature"] = [f"Choose one of: {', '.join(Temperature.values)}."]
        else:
            changes["temperature"] = [commitment.temperature, temperature]
            commitment.temperature = temperature
            upset_interval = commitment.team.upset_update_interval
            if temperature == Temperature.UPSET and commitment.update_interval > upset_interval:
                # An upset customer hears from us more often, starting with the next update.
                changes.setdefault(
                    "update_interval", [format_duration(commitment.update_interval), format_duration(upset_interval)]
                )
                commitment.update_interval = upset_interval
                if commitment.status in ACTIVE_STATUSES:
                    base = commitment.last_update_at or now
                    next_update = max(base + upset_interval, now)
                    if commitment.next_update_at is None or next_update < commitment.next_update_at:
                        commitment.next_update_at = next_update
    if clear_target and commitment.target_at is not None:
        changes["target_at"] = [commitment.target_at.isoformat(), ""]
        commitment.target_at = None
    elif target_at is not None and target_at != commitment.target_at:
        target = collect(errors, lambda: clean_future(target_at, "target_at", now, what="The internal target"))
        if target is not None and target > commitment.due_at:
            errors["target_at"] = ["The internal target must be no later than the time promised to the customer."]
        elif target is not None:
            changes["target_at"] = [
                commitment.target_at.isoformat() if commitment.target_at else "",
                target.isoformat(),
            ]
            commitment.target_at = target
    if errors:
        raise InvalidInput(errors)
    if changes:
        commitment.save()
        if changes.keys() & set(SEARCHED_FIELDS):
            keep_searchable([commitment])
        record_event(commitment, TimelineEvent.Kind.EDITED, actor=actor, data={"changes": changes}, at=now)
    return commitment


@transaction.atomic
def send_update(
    *, actor: User, commitment: Commitment, message: str, next_contact_at: datetime | None = None
) -> Commitment:
    """The owner's own status update, sent now on the customer's channel; resets the update clock.

    ``next_contact_at`` is when the agent says the customer hears from us next: the next update
    is due then, or at the cadence's time if that comes first.
    """
    commitment = _start("send_update", commitment, actor=actor)
    now = timezone.now()
    errors: dict[str, Any] = {}
    message = collect(errors, lambda: clean_text(message, "message", required="Write the update for the customer."))
    if next_contact_at is not None:
        collect(errors, lambda: clean_future(next_contact_at, "next_contact_at", now, what="The next contact"))
    if errors:
        raise InvalidInput(errors)
    _told_customer(commitment, now)
    if next_contact_at is not None and commitment.next_update_at and next_contact_at < commitment.next_update_at:
        commitment.next_update_at = next_contact_at
    commitment.save()
    event = record_event(commitment, TimelineEvent.Kind.UPDATE_SENT, actor=actor, message=message, at=now)
    outbox.notify_customer(
        commitment, MessageKind.STATUS_UPDATE, key=f"{commitment.pk}:status_update:{event.pk}", message=message
    )
    return commitment


@transaction.atomic
def reschedule(*, actor: User, commitment: Commitment, due_at: datetime | None, reason: str) -> Commitment:
    """A new due time with a reason, told to the customer before the old one slips."""
    commitment = _start("reschedule", commitment, actor=actor)
    now = timezone.now()
    errors: dict[str, Any] = {}
    new_due = collect(errors, lambda: clean_future(due_at, "due_at", now, what="The new due time"))
    reason = collect(errors, lambda: clean_text(reason, "reason", required="Tell the customer why the time changes."))
    if errors:
        raise InvalidInput(errors)
    previous = commitment.due_at
    commitment.due_at = new_due
    if commitment.target_at and commitment.target_at > new_due:
        commitment.target_at = None
    if commitment.status == Status.MISSED:
        commitment.status = Status.OPEN
        commitment.missed_at = None
    if commitment.status == Status.WAITING:
        # The customer was just given this time while we still wait on them: the pause that
        # resume adds back counts from now, and no warning runs while the clock is stopped.
        commitment.paused_at = now
        commitment.next_escalation_at = None
    else:
        plan_escalations(commitment, now=now)
    _told_customer(commitment, now)
    commitment.save()
    event = record_event(
        commitment,
        TimelineEvent.Kind.RESCHEDULED,
        actor=actor,
        message=reason,
        data={"from": previous.isoformat(), "to": new_due.isoformat()},
        at=now,
    )
    outbox.notify_customer(
        commitment, MessageKind.RESCHEDULE, key=f"{commitment.pk}:reschedule:{event.pk}", message=reason
    )
    return commitment


@transaction.atomic
def hand_off(*, actor: User, commitment: Commitment, assignee: User | None, note: str = "") -> Commitment:
    """The work moves to someone else; the owner stays answerable to the customer."""
    commitment = _start("hand_off", commitment, actor=actor)
    note = clean_text(note, "note")
    if assignee is None or not Membership.objects.filter(user=assignee, team_id=commitment.team_id).exists():
        raise InvalidInput({"assignee": ["Choose a member of this commitment's team."]})
    if not assignee.is_active:
        raise InvalidInput({"assignee": ["This person's account is switched off: choose someone else."]})
    if assignee.pk == commitment.assignee_id:
        raise InvalidInput({"assignee": [f"{assignee.display_name} already has this commitment."]})
    previous = commitment.assignee
    commitment.assignee = assignee
    commitment.save()
    event = record_event(
        commitment,
        TimelineEvent.Kind.HANDED_OFF,
        actor=actor,
        message=note,
        data={
            "from": previous.get_username(),
            "to": assignee.get_username(),
            "from_name": previous.display_name,
            "to_name": assignee.display_name,
        },
    )
    if assignee.pk != actor.pk:
        outbox.notify_staff(
            commitment,
            MessageKind.ALERT,
            recipients=[assignee],
            key=f"{commitment.pk}:handoff:{event.pk}",
            message=f"{actor.display_name} handed this commitment to you. {note}".strip(),
        )
    return commitment


@transaction.atomic
def wait_on_customer(*, actor: User, commitment: Commitment, request: str) -> Commitment:
    """Ask the customer for exactly what we need; the due clock pauses until they answer."""
    commitment = _start("wait_on_customer", commitment, actor=actor)
    request = clean_text(request, "request", required="Say exactly what we need from the customer.")
    now = timezone.now()
    commitment.status = Status.WAITING
    commitment.paused_at = now
    commitment.waiting_request = request
    commitment.missed_at = None
    _told_customer(commitment, now)
    commitment.next_escalation_at = None
    commitment.save()
    event = record_event(commitment, TimelineEvent.Kind.WAITING, actor=actor, message=request, at=now)
    outbox.notify_customer(commitment, MessageKind.WAITING, key=f"{commitment.pk}:waiting:{event.pk}", message=request)
    return commitment


def due_after_resuming(commitment: Commitment, *, now: datetime) -> datetime:
    """The due time a waiting commitment gets if the clock runs again at ``now``.

    It moves by the time paused. One that was already past due when we paused gets one update
    interval from now instead: a fresh, honest time rather than one already gone.
    """
    paused_at = commitment.paused_at or now
    moved = commitment.due_at + (now - paused_at)
    if commitment.due_at <= paused_at:
        return max(moved, now + commitment.update_interval)
    return moved


@transaction.atomic
def resume(*, actor: User | None, commitment: Commitment, note: str = "", by_customer: bool = False) -> Commitment:
    """The clock runs again: the due time moves by the time paused and the customer is told."""
    commitment = _start("resume", commitment, actor=actor)
    note = clean_text(note, "note")
    now = timezone.now()
    paused_for = now - (commitment.paused_at or now)
    previous = commitment.due_at
    commitment.due_at = due_after_resuming(commitment, now=now)
    if commitment.target_at:
        commitment.target_at = min(commitment.target_at + paused_for, commitment.due_at)
    commitment.status = Status.OPEN
    commitment.paused_at = None
    plan_escalations(commitment, now=now)
    _told_customer(commitment, now)
    commitment.save()
    event = record_event(
        commitment,
        TimelineEvent.Kind.RESUMED,
        actor=actor,
        actor_label="customer" if by_customer else "",
        message=note,
        data={
            "from": previous.isoformat(),
            "to": commitment.due_at.isoformat(),
            "paused_seconds": int(paused_for.total_seconds()),
        },
        at=now,
    )
    outbox.notify_customer(
        commitment, MessageKind.RESCHEDULE, key=f"{commitment.pk}:reschedule:{event.pk}", message=note
    )
    if by_customer:
        outbox.notify_staff(
            commitment,
            MessageKind.ALERT,
            recipients=_owner_and_assignee(commitment),
            key=f"{commitment.pk}:customer_answer:{event.pk}",
            message=f"{commitment.customer.name} answered: {note}",
        )
    return commitment


@transaction.atomic
def fulfil(*, actor: User, commitment: Commitment, resolution: str) -> Commitment:
    """Done: the customer is told, and asked later whether it is really resolved."""
    commitment = _start("fulfil", commitment, actor=actor)
    resolution = clean_text(resolution, "resolution", required="Tell the customer what was done.")
    now = timezone.now()
    commitment.status = Status.FULFILLED
    commitment.fulfilled_at = now
    commitment.resolution = resolution
    commitment.paused_at = None
    commitment.next_update_at = None
    commitment.next_escalation_at = None
    commitment.satisfaction_due_at = now + settings.FOLLOWTHROUGH_SATISFACTION_AFTER
    commitment.save()
    event = record_event(
        commitment,
        TimelineEvent.Kind.FULFILLED,
        actor=actor,
        message=resolution,
        data={"on_time": now <= commitment.due_at},
        at=now,
    )
    outbox.notify_customer(
        commitment, MessageKind.RESOLUTION, key=f"{commitment.pk}:resolution:{event.pk}", message=resolution
    )
    return commitment


@transaction.atomic
def record_chase(*, actor: User, commitment: Commitment, channel: str, note: str = "") -> Commitment:
    """The customer had to contact us first: the one number this product exists to bring to zero."""
    commitment = _locked(commitment)
    _ensure_team_member(actor, commitment)
    _require_move(commitment, "record_chase")
    if channel not in Channel.values:
        raise InvalidInput({"channel": [f"Choose one of: {', '.join(Channel.values)}."]})
    note = clean_text(note, "note")
    commitment.save(update_fields=["updated_at"])
    record_event(commitment, TimelineEvent.Kind.CHASED, actor=actor, message=note, data={"channel": channel})
    return commitment


@transaction.atomic
def cancel(*, actor: User, commitment: Commitment, reason: str = "") -> Commitment:
    """Withdraw the promise: unsent messages are suppressed and the customer gets a short notice."""
    commitment = _start("cancel", commitment, actor=actor)
    reason = clean_text(reason, "reason")
    now = timezone.now()
    commitment.status = Status.CANCELLED
    commitment.cancelled_at = now
    commitment.paused_at = None
    commitment.next_update_at = None
    commitment.next_escalation_at = None
    commitment.satisfaction_due_at = None
    commitment.save()
    event = record_event(commitment, TimelineEvent.Kind.CANCELLED, actor=actor, message=reason, at=now)
    outbox.suppress_unsent(commitment)
    outbox.notify_customer(
        commitment, MessageKind.CANCELLATION, key=f"{commitment.pk}:cancellation:{event.pk}", message=reason
    )
    return commitment


@transaction.atomic
def confirm(*, commitment: Commitment) -> Commitment:
    """The customer says it is resolved: the commitment is closed."""
    commitment = _locked(commitment)
    _require_move(commitment, "confirm")
    commitment.status = Status.CONFIRMED
    commitment.confirmed_at = timezone.now()
    commitment.satisfaction_due_at = None
    commitment.save()
    record_event(commitment, TimelineEvent.Kind.CONFIRMED, actor_label="customer")
    return commitment


@transaction.atomic
def reopen(*, actor: User | None, commitment: Commitment, reason: str, by_customer: bool = False) -> Commitment:
    """Not resolved after all: the owner and the team lead hear at once and the clock starts again."""
    commitment = _locked(commitment)
    if actor is not None:
        ensure_can_act(actor, commitment)
    if by_customer and commitment.status != Status.FULFILLED:
        # Only the satisfaction question reopens from the customer's side; a closed one stays closed.
        raise IllegalMove("This commitment is not waiting for the customer's answer, so it cannot be reopened.")
    _require_move(commitment, "reopen")
    reason = clean_text(reason, "reason", required="Say what is still wrong." if not by_customer else "")
    now = timezone.now()
    commitment.status = Status.REOPENED
    commitment.satisfaction_due_at = None
    commitment.confirmed_at = None
    # A fresh promise: we owe the customer an answer within one update interval.
    commitment.due_at = max(commitment.due_at, now + commitment.update_interval)
    plan_escalations(commitment, now=now)
    commitment.next_update_at = now + commitment.update_interval
    commitment.save()
    event = record_event(
        commitment,
        TimelineEvent.Kind.REOPENED,
        actor=actor,
        actor_label="customer" if by_customer else "",
        message=reason,
        at=now,
    )
    who = commitment.customer.name if by_customer else (actor.display_name if actor else "Someone")
    outbox.notify_staff(
        commitment,
        MessageKind.ALERT,
        recipients=_owner_and_leads(commitment),
        key=f"{commitment.pk}:reopened:{event.pk}",
        message=f"{who} reopened this commitment: {reason or 'still a problem.'}",
    )
    return commitment
