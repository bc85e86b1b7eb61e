"""Every write to a customer or a commitment: one function per use case, one transaction each.

Each service locks the commitment, checks that the move is allowed, changes it, appends to its
timeline and puts the messages it causes in the outbox, all in one transaction, so the timeline
and the outbox can never be skipped. Pages, the API and the sweeps all call these.
"""

import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Membership, Team, User
from commitments import text_opt_outs
from commitments.errors import IllegalMove, InvalidInput, NotAllowed
from commitments.languages import clean_language
from commitments.models import (
    ACTIVE_STATUSES,
    Channel,
    Commitment,
    Customer,
    Status,
    Temperature,
    TimelineEvent,
)
from commitments.schedule import plan_escalations
from commitments.status_links import issue_status_link
from followthrough.durations import format_duration
from notifications import outbox
from notifications.models import Kind

MIN_UPDATE_INTERVAL = timedelta(seconds=10)
MAX_UPDATE_INTERVAL = timedelta(days=30)


# --- Customers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerDetails:
    name: str
    email: str = ""
    phone: str = ""
    preferred_channel: str = Channel.EMAIL
    timezone: str = "UTC"
    language: str = ""  # BCP 47; blank keeps the customer's (or FOLLOWTHROUGH_LANGUAGE for a new one)


def normalize_email(raw: str) -> str:
    return (raw or "").strip().lower()


# North America's 555 numbers (the 555 exchange, or 555 written as the area code) are where
# documentation, demos and tests write their numbers (the contract's own example is +15555550100),
# so they are accepted although few are in service.
FICTIONAL_NANP = re.compile(r"^(555\d{7}|\d{3}555\d{4})$")


def normalize_phone(raw: str) -> str:
    """E.164 for a valid number (national numbers read in FOLLOWTHROUGH_PHONE_REGION); raise ValueError."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, settings.FOLLOWTHROUGH_PHONE_REGION)
    except phonenumbers.NumberParseException as error:
        raise ValueError("Enter a valid phone number, e.g. +15555550100.") from error
    fictional = number.country_code == 1 and FICTIONAL_NANP.match(str(number.national_number))
    if not (phonenumbers.is_valid_number(number) or fictional):
        raise ValueError("Enter a valid phone number, e.g. +15555550100.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@cache
def known_timezones() -> frozenset[str]:
    """The IANA zone names (reading them walks the tz database, so once per process)."""
    return frozenset(zoneinfo.available_timezones())


def clean_customer_details(details: CustomerDetails, *, on_file: Customer | None = None) -> CustomerDetails:
    """Normalize contact details, or raise InvalidInput naming every bad field.

    ``on_file`` is the customer these details were matched to: an email or phone already on their
    record counts as the contact their preferred channel needs.
    """
    errors: dict[str, list[str]] = {}
    name = (details.name or "").strip()
    if not name:
        errors["name"] = ["Enter the customer's name."]
    elif len(name) > 200:
        errors["name"] = ["Keep the name under 200 characters."]
    email = normalize_email(details.email)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = ["Enter a valid email address."]
        if len(email) > 254:
            errors["email"] = ["Keep the email address under 254 characters."]
    try:
        phone = normalize_phone(details.phone)
    except ValueError as error:
        errors["phone"] = [str(error)]
        phone = ""
    reachable_email = email or (on_file.email if on_file else "")
    reachable_phone = phone or (on_file.phone if on_file else "")
    channel = details.preferred_channel or Channel.EMAIL
    if channel not in Channel.values:
        errors["preferred_channel"] = [f"Choose one of: {', '.join(Channel.values)}."]
    elif channel == Channel.EMAIL and not reachable_email and "email" not in errors:
        errors["email"] = ["An email address is needed to reach this customer by email."]
    elif channel in (Channel.SMS, Channel.PHONE) and not reachable_phone and "phone" not in errors:
        errors["phone"] = [f"A phone number is needed to reach this customer by {Channel(channel).label.lower()}."]
    zone = (details.timezone or "UTC").strip()
    if zone not in known_timezones():
        errors["timezone"] = [f"“{zone}” is not a known time zone (use an IANA name such as America/New_York)."]
    language = ""
    if details.language:
        try:
            language = clean_language(details.language)
        except ValueError as error:
            errors["language"] = [str(error)]
    if errors:
        raise InvalidInput(errors)
    return CustomerDetails(
        name=name, email=email, phone=phone, preferred_channel=channel, timezone=zone, language=language
    )


def find_customer(*, team: Team | int, email: str = "", phone: str = "") -> Customer | None:
    """The team's customer with this email, else with this phone (both normalized first)."""
    email = normalize_email(email)
    customers = Customer.objects.filter(team=team)
    if email:
        found = customers.filter(email=email).first()
        if found:
            return found
    try:
        phone = normalize_phone(phone)
    except ValueError:
        return None
    return customers.filter(phone=phone).first() if phone else None


def upsert_customer(details: CustomerDetails, *, team: Team) -> Customer:
    """Find the team's customer again by email or phone and bring their details up to date, or create them.

    Only this team's record is read or changed: another team's customer with the same email or
    phone is another record. Call inside a transaction. Raises InvalidInput if the details are bad
    or would merge two of the team's customers.
    """
    customer = _matching_customer(details, team=team)
    cleaned = clean_customer_details(details, on_file=customer)
    if customer is None:
        customer = Customer(team=team)
    _ensure_contacts_are_theirs(customer, cleaned)
    customer.name = cleaned.name
    customer.email = cleaned.email or customer.email
    customer.phone = cleaned.phone or customer.phone
    customer.preferred_channel = cleaned.preferred_channel
    customer.timezone = cleaned.timezone
    customer.sms_opted_out = text_opt_outs.texts_stopped_for(
        phone=customer.phone, chosen_by_customer=customer.sms_opted_out
    )
    customer.language = cleaned.language or customer.language
    _save_customer(customer)
    return customer


def _matching_customer(details: CustomerDetails, *, team: Team) -> Customer | None:
    """The team's customer with this email, else this phone, locked for the rest of the transaction."""
    customers = Customer.objects.select_for_update().filter(team=team)
    email = normalize_email(details.email)
    if email:
        found = customers.filter(email=email).first()
        if found:
            return found
    try:
        phone = normalize_phone(details.phone)
    except ValueError:
        return None
    return customers.filter(phone=phone).first() if phone else None


def contact_taken_in_team(customer: Customer, *, email: str = "", phone: str = "") -> dict[str, bool]:
    """Whether another of the team's customers already has this email or phone (the two may not merge)."""
    others = Customer.objects.filter(team_id=customer.team_id)
    if customer.pk:
        others = others.exclude(pk=customer.pk)
    return {
        "email": bool(email) and others.filter(email=email).exists(),
        "phone": bool(phone) and others.filter(phone=phone).exists(),
    }


def _ensure_contacts_are_theirs(customer: Customer, cleaned: CustomerDetails) -> None:
    """One person never becomes two, and two of a team's customers never become one."""
    taken = contact_taken_in_team(customer, email=cleaned.email, phone=cleaned.phone)
    errors: dict[str, list[str]] = {}
    if taken["email"]:
        errors["email"] = ["This email address belongs to another customer's record."]
    if taken["phone"]:
        errors["phone"] = ["This phone number belongs to another customer's record."]
    if errors:
        raise InvalidInput(errors)


def _save_customer(customer: Customer) -> None:
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as error:  # Another request saved the same person a moment ago.
        raise InvalidInput({"email": ["This customer was just saved by someone else; try again."]}) from error


def ensure_can_edit_customer(actor: User, customer: Customer) -> None:
    """A customer's details are their team's to correct (and a superuser's)."""
    if not actor.is_superuser and not Membership.objects.filter(user=actor, team_id=customer.team_id).exists():
        raise NotAllowed("Only a member of the customer's team can change their details.")


@transaction.atomic
def edit_customer(*, actor: User, customer: Customer, details: CustomerDetails, notes: str | None = None) -> Customer:
    """Correct a customer's contact details or preferences; each of their open commitments records it."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    ensure_can_edit_customer(actor, customer)
    cleaned = clean_customer_details(details)
    _ensure_contacts_are_theirs(customer, cleaned)
    new_values = {
        "name": cleaned.name,
        "email": cleaned.email,
        "phone": cleaned.phone,
        "preferred_channel": cleaned.preferred_channel,
        "timezone": cleaned.timezone,
        "language": cleaned.language or customer.language,
    }
    if notes is not None:
        new_values["notes"] = _clean_text(notes, "notes")
    changes = {
        field: [getattr(customer, field), value]
        for field, value in new_values.items()
        if getattr(customer, field) != value
    }
    if not changes:
        return customer
    for field, value in new_values.items():
        setattr(customer, field, value)
    if "phone" in changes:
        customer.sms_opted_out = text_opt_outs.opt_out_after_new_number(
            old_phone=changes["phone"][0], new_phone=customer.phone, opted_out=customer.sms_opted_out
        )
    _save_customer(customer)
    # Private notes are no news to the timeline; contact details and preferences are.
    visible = {field: change for field, change in changes.items() if field != "notes"}
    if visible:
        now = timezone.now()
        for commitment in customer.commitments.filter(status__in=(*ACTIVE_STATUSES, Status.FULFILLED)):
            _record(commitment, TimelineEvent.Kind.PREFERENCES, actor=actor, data={"changes": visible}, at=now)
    return customer


# --- Who may do what ------------------------------------------------------------------------

# The statuses each move starts from, and how a refusal words it. One table, so the pages offer
# exactly the moves the services accept.
MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "edit": ((*ACTIVE_STATUSES, Status.FULFILLED), "edited"),
    "send_update": (ACTIVE_STATUSES, "updated"),
    "reschedule": (ACTIVE_STATUSES, "rescheduled"),
    "hand_off": ((*ACTIVE_STATUSES, Status.FULFILLED), "handed off"),
    "wait_on_customer": ((Status.OPEN, Status.REOPENED, Status.MISSED), "put on hold for the customer"),
    "resume": ((Status.WAITING,), "resumed"),
    "fulfil": (ACTIVE_STATUSES, "fulfilled"),
    "record_chase": ((*ACTIVE_STATUSES, Status.FULFILLED), "marked as chased"),
    "cancel": (ACTIVE_STATUSES, "cancelled"),
    "reopen": ((Status.FULFILLED, Status.CONFIRMED), "reopened"),
    "confirm": ((Status.FULFILLED,), "confirmed"),
}

_STATUS_PHRASES: dict[str, str] = {
    Status.OPEN: "open",
    Status.WAITING: "waiting on the customer",
    Status.FULFILLED: "fulfilled",
    Status.CONFIRMED: "confirmed by the customer",
    Status.REOPENED: "reopened",
    Status.MISSED: "missed",
    Status.CANCELLED: "cancelled",
}


def is_lead_of(user: User, team_id: int) -> bool:
    return user.is_superuser or Membership.objects.filter(user=user, team_id=team_id, role="lead").exists()


def ensure_can_act(actor: User, commitment: Commitment) -> None:
    """Leads act on their team's commitments, agents on the ones they own or are assigned."""
    if actor.is_superuser or actor.pk in (commitment.owner_id, commitment.assignee_id):
        return
    if is_lead_of(actor, commitment.team_id):
        return
    raise NotAllowed("Only the owner, the assignee or a team lead can change this commitment.")


def _ensure_team_member(actor: User, commitment: Commitment) -> None:
    if not (actor.is_superuser or Membership.objects.filter(user=actor, team_id=commitment.team_id).exists()):
        raise NotAllowed("Only a member of the team can record this.")


def available_actions(*, actor: User, commitment: Commitment) -> set[str]:
    """The moves this person may make on this commitment now (the keys of MOVES, less confirm)."""
    by_status = {move for move, (allowed, _) in MOVES.items() if commitment.status in allowed and move != "confirm"}
    try:
        ensure_can_act(actor, commitment)
    except NotAllowed:
        try:
            _ensure_team_member(actor, commitment)
        except NotAllowed:
            return set()
        return by_status & {"record_chase"}
    return by_status


# --- Internals ------------------------------------------------------------------------------


def _locked(commitment: Commitment) -> Commitment:
    return (
        Commitment.objects.select_for_update(of=("self",))
        .select_related("customer", "team", "owner", "assignee")
        .get(pk=commitment.pk)
    )


def _require_move(commitment: Commitment, move: str) -> None:
    allowed, verb = MOVES[move]
    if commitment.status not in allowed:
        status = _STATUS_PHRASES.get(commitment.status, commitment.status)
        raise IllegalMove(f"This commitment is {status}, so it cannot be {verb}.")


def _record(
    commitment: Commitment,
    kind: str,
    *,
    actor: User | None = None,
    actor_label: str = "",
    message: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> TimelineEvent:
    return TimelineEvent.objects.create(
        commitment=commitment,
        kind=kind,
        actor=actor,
        actor_label=actor_label or ("" if actor else "system"),
        message=message,
        data=data or {},
        created_at=at or timezone.now(),
    )


def _told_customer(commitment: Commitment, now: datetime) -> None:
    """The customer just heard from us: the next proactive update is one interval after they get it.

    A text made in the customer's night reaches them in the morning, so the interval counts from then.
    """
    commitment.last_update_at = now
    commitment.next_update_at = outbox.send_time(commitment.customer, now) + commitment.update_interval


def _team_leads(commitment: Commitment) -> list[User]:
    return list(User.objects.filter(memberships__team_id=commitment.team_id, memberships__role="lead", is_active=True))


def _owner_and_assignee(commitment: Commitment) -> list[User]:
    return list({commitment.owner_id: commitment.owner, commitment.assignee_id: commitment.assignee}.values())


def _owner_and_leads(commitment: Commitment) -> list[User]:
    people = {commitment.owner_id: commitment.owner}
    for lead in _team_leads(commitment):
        people.setdefault(lead.pk, lead)
    return list(people.values())


def _clean_text(value: str | None, field: str, *, required: str = "", limit: int = 5000) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput({field: [required]})
    if len(text) > limit:
        raise InvalidInput({field: [f"Keep this under {limit} characters."]})
    return text


def clean_update_interval(value: timedelta | None) -> timedelta:
    if value is None:
        return settings.FOLLOWTHROUGH_UPDATE_INTERVAL
    if not MIN_UPDATE_INTERVAL <= value <= MAX_UPDATE_INTERVAL:
        raise InvalidInput({"update_interval": ["Choose an interval between 10s and 30d."]})
    return value


def _clean_future(value: datetime | None, field: str, now: datetime, *, what: str = "The due time") -> datetime:
    if value is None:
        raise InvalidInput({field: ["Enter the date and time."]})
    if timezone.is_naive(value):
        raise InvalidInput({field: ["Give the time with its UTC offset, e.g. 2026-11-25T10:00:00+01:00."]})
    if value <= now:
        raise InvalidInput({field: [f"{what} must be in the future."]})
    return value


def _collect(errors: dict[str, Any], check: Callable[[], object]) -> Any:
    """Run one check, adding its field errors to ``errors`` so the caller can report all at once."""
    try:
        return check()
    except InvalidInput as error:
        errors.update(error.errors)
        return None


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
    team: Team | None = None,
    update_interval: timedelta | None = None,
    external_ref: str = "",
    target_at: datetime | None = None,
    temperature: str = Temperature.CALM,
) -> Commitment:
    """Log a promise: the customer is acknowledged at once and the follow-through clock starts.

    Given only the owner's own target, the time promised to the customer is the target plus the
    buffer that owner's history calls for (``commitments.promises``).
    """
    now = timezone.now()
    errors: dict[str, Any] = {}
    owner = owner or actor
    team_row = _resolve_team(actor=actor, owner=owner, team=team, errors=errors)
    customer_row: Customer | None = None
    if due_at is None and target_at is not None and timezone.is_aware(target_at) and target_at > now:
        from commitments import promises

        due_at = promises.propose_promise(owner=owner, team=team, target_at=target_at, now=now).promised_at
    if temperature not in Temperature.values:
        errors["temperature"] = [f"Choose one of: {', '.join(Temperature.values)}."]
    try:
        if team_row is not None:
            customer_row = upsert_customer(customer, team=team_row)
        else:  # No team to file the customer under: still report every bad detail at once.
            clean_customer_details(customer)
    except InvalidInput as error:
        errors["customer"] = error.errors
    summary = _collect(errors, lambda: _clean_text(summary, "summary", required="Say what was promised.", limit=300))
    details = _collect(errors, lambda: _clean_text(details, "details"))
    external_ref = _collect(errors, lambda: _clean_text(external_ref, "external_ref", limit=200))
    due_at = _collect(errors, lambda: _clean_future(due_at, "due_at", now))
    interval = _collect(errors, lambda: clean_update_interval(update_interval))
    if target_at is not None:
        target_at = _collect(errors, lambda: _clean_future(target_at, "target_at", now, what="The internal target"))
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
    issue_status_link(commitment)
    _told_customer(commitment, now)
    plan_escalations(commitment, now=now)
    commitment.save()
    event = _record(
        commitment,
        TimelineEvent.Kind.CREATED,
        actor=actor,
        message=commitment.summary,
        data={"due_at": due_at.isoformat(), "owner": owner.get_username(), "channel": customer_row.preferred_channel},
        at=now,
    )
    outbox.notify_customer(commitment, Kind.ACKNOWLEDGEMENT, key=f"{commitment.pk}:acknowledgement:{event.pk}")
    return commitment


def _resolve_team(*, actor: User, owner: User, team: Team | None, errors: dict[str, Any]) -> Team | None:
    owner_teams = Team.objects.filter(memberships__user=owner)
    if team is not None:
        if not actor.is_superuser and not Membership.objects.filter(user=actor, team=team).exists():
            errors["team"] = ["You are not a member of this team."]
            return None
        if not owner_teams.filter(pk=team.pk).exists():
            errors["owner"] = ["The owner is not a member of this team."]
            return None
        return team
    choices = list(owner_teams)
    if not choices:
        errors["owner"] = ["The owner is not a member of any team."]
        return None
    if len(choices) > 1:
        errors["team"] = ["The owner is in several teams: choose one."]
        return None
    if not actor.is_superuser and not Membership.objects.filter(user=actor, team=choices[0]).exists():
        errors["owner"] = ["The owner is not in any of your teams."]
        return None
    return choices[0]


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
    commitment = _locked(commitment)
    ensure_can_act(actor, commitment)
    _require_move(commitment, "edit")
    now = timezone.now()
    errors: dict[str, Any] = {}
    changes: dict[str, list[str]] = {}
    if summary is not None:
        summary = _collect(
            errors, lambda: _clean_text(summary, "summary", required="Say what was promised.", limit=300)
        )
        if summary is not None and summary != commitment.summary:
            changes["summary"] = [commitment.summary, summary]
            commitment.summary = summary
    if details is not None:
        details = _collect(errors, lambda: _clean_text(details, "details"))
        if details is not None and details != commitment.details:
            changes["details"] = [commitment.details, details]
            commitment.details = details
    if update_interval is not None:
        interval = _collect(errors, lambda: clean_update_interval(update_interval))
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
        target = _collect(errors, lambda: _clean_future(target_at, "target_at", now, what="The internal target"))
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
        _record(commitment, TimelineEvent.Kind.EDITED, actor=actor, data={"changes": changes}, at=now)
    return commitment


@transaction.atomic
def send_update(
    *, actor: User, commitment: Commitment, message: str, next_contact_at: datetime | None = None
) -> Commitment:
    """The owner's own status update, sent now on the customer's channel; resets the update clock.

    ``next_contact_at`` is when the agent says the customer hears from us next: the next update
    is due then, or at the cadence's time if that comes first.
    """
    commitment = _locked(commitment)
    ensure_can_act(actor, commitment)
    _require_move(commitment, "send_update")
    now = timezone.now()
    errors: dict[str, Any] = {}
    message = _collect(errors, lambda: _clean_text(message, "message", required="Write the update for the customer."))
    if next_contact_at is not None:
        _collect(errors, lambda: _clean_future(next_contact_at, "next_contact_at", now, what="The next contact"))
    if errors:
        raise InvalidInput(errors)
    _told_customer(commitment, now)
    if next_contact_at is not None and commitment.next_update_at and next_contact_at < commitment.next_update_at:
        commitment.next_update_at = next_contact_at
    commitment.save()
    event = _record(commitment, TimelineEvent.Kind.UPDATE_SENT, actor=actor, message=message, at=now)
    outbox.notify_customer(
        commitment, Kind.STATUS_UPDATE, key=f"{commitment.pk}:status_update:{event.pk}", message=message
    )
    return commitment


@transaction.atomic
def reschedule(*, actor: User, commitment: Commitment, due_at: datetime | None, reason: str) -> Commitment:
    """A new due time with a reason, told to the customer before the old one slips."""
    commitment = _locked(commitment)
    ensure_can_act(actor, commitment)
    _require_move(commitment, "reschedule")
    now = timezone.now()
    errors: dict[str, Any] = {}
    new_due = _collect(errors, lambda: _clean_future(due_at, "due_at", now, what="The new due time"))
    reason = _collect(errors, lambda: _clean_text(reason, "reason", required="Tell the customer why the time changes."))
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
    event = _record(
        commitment,
        TimelineEvent.Kind.RESCHEDULED,
        actor=actor,
        message=reason,
        data={"from": previous.isoformat(), "to": new_due.isoformat()},
        at=now,
    )
    outbox.notify_customer(commitment, Kind.RESCHEDULE, key=f"{commitment.pk}:reschedule:{event.pk}", message=reason)
    return commitment


@transaction.atomic
def hand_off(*, actor: User, commitment: Commitment, assignee: User | None, note: str = "") -> Commitment:
    """The work moves to someone else; the owner stays answerable to the customer."""
    commitment = _locked(commitment)
    ensure_can_act(actor, commitment)
    _require_move(commitment, "hand_off")
    note = _clean_text(note, "note")
    if assignee is None or not Membership.objects.filter(user=assignee, team_id=commitment.team_id).exists():
        raise InvalidInput({"assignee": ["Choose a member of this commitment's team."]})
    if not assignee.is_active:
        raise InvalidInput({"assignee": ["This person's account is switched off: choose someone else."]})
    if assignee.pk == commitment.assignee_id:
        raise InvalidInput({"assignee": [f"{assignee.display_name} already has this commitment."]})
    previous = commitment.assignee
    commitment.assignee = assignee
    commitment.save()
    event = _record(
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
            Kind.ALERT,
            recipients=[assignee],
            key=f"{commitment.pk}:handoff:{event.pk}",
            message=f"{actor.display_name} handed this commitment to you. {note}".strip(),
        )
    return commitment


@transaction.atomic
def wait_on_customer(*, actor: User, commitment: Commitment, request: str) -> Commitment:
    """Ask the customer for exactly what we need; the due clock pauses until they answer."""
    commitment = _locked(commitment)
    ensure_can_act(actor, commitment)
    _require_move(commitment, "wait_on_customer")
    request = _clean_text(request, "request", required="Say exactly what we need from the customer.")
    now = timezone.now()
    commitment.status = Status.WAITING
    commitment.paused_at = now
    commitment.waiting_request = request
    commitment.missed_at = None
    _told_customer(commitment, now)
    commitment.next_escalation_at = None
    commitment.save()
    event = _record(commitment, TimelineEvent.Kind.WAITING, actor=actor, message=request, at=now)
    outbox.notify_customer(commitment, Kind.WAITING, key=f"{commitment.pk}:waiting:{event.pk}", message=request)
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
    commitment = _locked(commitment)
    if actor is not None:
        ensure_can_act(actor, commitment)
    _require_move(commitment, "resume")
    note = _clean_text(note, "note")
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
    event = _record(
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
    outbox.notify_customer(commitment, Kind.RESCHEDULE, key=f"{commitment.pk}:reschedule:{event.pk}", message=note)
    if by_customer:
        outbox.notify_staff(
            commitment,
            Kind.ALERT,
            recipients=_owner_and_assignee(commitment),
            key=f"{commitment.pk}:customer_answer:{event.pk}",
            message=f"{commitment.customer.name} answered: {note}",
        )
    return commitment


@transaction.atomic
def fulfil(*, actor: User, commitment: Commitment, resolution: str) -> Commitment:
    """Done: the customer is told, and asked later whether it is really resolved."""
    commitment = _locked(commitment)
    ensure_can_act(actor, commitment)
    _require_move(commitment, "fulfil")
    resolution = _clean_text(resolution, "resolution", required="Tell the customer what was done.")
    now = timezone.now()
    commitment.status = Status.FULFILLED
    commitment.fulfilled_at = now
    commitment.resolution = resolution
    commitment.paused_at = None
    commitment.next_update_at = None
    commitment.next_escalation_at = None
    commitment.satisfaction_due_at = now + settings.FOLLOWTHROUGH_SATISFACTION_AFTER
    commitment.save()
    event = _record(
        commitment,
        TimelineEvent.Kind.FULFILLED,
        actor=actor,
        message=resolution,
        data={"on_time": now <= commitment.due_at},
        at=now,
    )
    outbox.notify_customer(
        commitment, Kind.RESOLUTION, key=f"{commitment.pk}:resolution:{event.pk}", message=resolution
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
    note = _clean_text(note, "note")
    commitment.save(update_fields=["updated_at"])
    _record(commitment, TimelineEvent.Kind.CHASED, actor=actor, message=note, data={"channel": channel})
    return commitment


@transaction.atomic
def cancel(*, actor: User, commitment: Commitment, reason: str = "") -> Commitment:
    """Withdraw the promise: unsent messages are suppressed and the customer gets a short notice."""
    commitment = _locked(commitment)
    ensure_can_act(actor, commitment)
    _require_move(commitment, "cancel")
    reason = _clean_text(reason, "reason")
    now = timezone.now()
    commitment.status = Status.CANCELLED
    commitment.cancelled_at = now
    commitment.paused_at = None
    commitment.next_update_at = None
    commitment.next_escalation_at = None
    commitment.satisfaction_due_at = None
    commitment.save()
    event = _record(commitment, TimelineEvent.Kind.CANCELLED, actor=actor, message=reason, at=now)
    outbox.suppress_unsent(commitment)
    outbox.notify_customer(
        commitment, Kind.CANCELLATION, key=f"{commitment.pk}:cancellation:{event.pk}", message=reason
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
    _record(commitment, TimelineEvent.Kind.CONFIRMED, actor_label="customer")
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
    reason = _clean_text(reason, "reason", required="Say what is still wrong." if not by_customer else "")
    now = timezone.now()
    commitment.status = Status.REOPENED
    commitment.satisfaction_due_at = None
    commitment.confirmed_at = None
    # A fresh promise: we owe the customer an answer within one update interval.
    commitment.due_at = max(commitment.due_at, now + commitment.update_interval)
    plan_escalations(commitment, now=now)
    commitment.next_update_at = now + commitment.update_interval
    commitment.save()
    event = _record(
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
        Kind.ALERT,
        recipients=_owner_and_leads(commitment),
        key=f"{commitment.pk}:reopened:{event.pk}",
        message=f"{who} reopened this commitment: {reason or 'still a problem.'}",
    )
    return commitment
