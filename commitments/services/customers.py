"""Customer records: cleaned, found, created and edited within a team; a contact belongs to one customer per team."""

from dataclasses import dataclass
from functools import cache

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership, Team, User
from commitments import text_opt_outs
from commitments.contacts import known_timezones, normalize_email, normalize_phone
from commitments.errors import InvalidInput, NotAllowed
from commitments.languages import clean_language
from commitments.models import (
    ACTIVE_STATUSES,
    Channel,
    Customer,
    Status,
    TimelineEvent,
)
from commitments.services.inputs import clean_text
from commitments.services.timeline import record_event
from followthrough import kept_statements

EMAIL_TAKEN = "This email address belongs to another customer's record."
PHONE_TAKEN = "This phone number belongs to another customer's record."
JUST_SAVED = "This customer was just saved by someone else; try again."


@dataclass(frozen=True)
class CustomerDetails:
    name: str
    email: str = ""
    phone: str = ""
    preferred_channel: str = Channel.EMAIL
    timezone: str = "UTC"
    language: str = ""  # BCP 47; blank keeps the customer's (or FOLLOWTHROUGH_LANGUAGE for a new one)


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


def upsert_customer(details: CustomerDetails, *, team: Team) -> Customer:
    """Find the team's customer again by email or phone and bring their details up to date, or create them.

    Only this team's record is read or changed: another team's customer with the same email or
    phone is another record. Call inside a transaction. Raises InvalidInput if the details are bad
    or would merge two of the team's customers. The record is written without a savepoint of its
    own (logging a promise is the busiest write there is): after an InvalidInput the caller rolls
    the transaction back without asking the database anything more.
    """
    customer, others = _matching_customer(details, team=team)
    cleaned = clean_customer_details(details, on_file=customer)
    if customer is None:
        customer = Customer(team=team)
    _refuse_merging(cleaned, others)
    customer.name = cleaned.name
    customer.email = cleaned.email or customer.email
    customer.phone = cleaned.phone or customer.phone
    customer.preferred_channel = cleaned.preferred_channel
    customer.timezone = cleaned.timezone
    customer.sms_opted_out = text_opt_outs.texts_stopped_for(
        phone=customer.phone, chosen_by_customer=customer.sms_opted_out
    )
    customer.language = cleaned.language or customer.language
    try:
        if customer.pk is None:
            kept_statements.insert(customer)
        else:
            customer.save()
    except IntegrityError as error:  # Another request saved the same person a moment ago.
        raise InvalidInput({"email": [JUST_SAVED]}) from error
    return customer


def _matching_customer(details: CustomerDetails, *, team: Team) -> tuple[Customer | None, list[Customer]]:
    """The team's customer with this email, else this phone, locked for the rest of the transaction;
    and the team's other customers with either contact (they may not be merged into this one).

    One query: every record these contacts could name (at most two, one per contact) is read at once.
    """
    email = normalize_email(details.email)
    try:
        phone = normalize_phone(details.phone)
    except ValueError:
        phone = ""
    if not email and not phone:
        return None, []
    if kept_statements.in_use():
        with connection.cursor() as cursor:
            statement = _matching_statement(by_email=bool(email), by_phone=bool(phone))
            cursor.execute(statement, {"team": team.pk, "email": email, "phone": phone})
            found = [kept_statements.instance_from_row(Customer, row) for row in cursor.fetchall()]
    else:
        named = Q(email=email) if email else Q()
        if phone:
            named |= Q(phone=phone)
        found = list(Customer.objects.select_for_update().filter(named, team=team).order_by("pk"))
    match = next((c for c in found if email and c.email == email), None) or next(
        (c for c in found if phone and c.phone == phone), None
    )
    return match, [c for c in found if c is not match]


@cache
def _matching_statement(*, by_email: bool, by_phone: bool) -> str:
    """``_matching_customer``'s query as the ORM writes it, kept (logging a promise is the busiest write
    there is); a blank contact matches nobody, so its test is left out. Its values: team, email, phone."""
    quote = connection.ops.quote_name
    named = [f"c.{quote('email')} = %(email)s"] if by_email else []
    named += [f"c.{quote('phone')} = %(phone)s"] if by_phone else []
    return (
        f"SELECT {kept_statements.columns_of(Customer, 'c')} FROM {quote(Customer._meta.db_table)} c "  # noqa: S608 - our own names
        f"WHERE ({' OR '.join(named)}) AND c.{quote('team_id')} = %(team)s ORDER BY c.{quote('id')} FOR UPDATE"
    )


def _refuse_merging(cleaned: CustomerDetails, others: list[Customer]) -> None:
    """The team's other records with these contacts (read with the match): two customers never become one."""
    errors: dict[str, list[str]] = {}
    if cleaned.email and any(other.email == cleaned.email for other in others):
        errors["email"] = [EMAIL_TAKEN]
    if cleaned.phone and any(other.phone == cleaned.phone for other in others):
        errors["phone"] = [PHONE_TAKEN]
    if errors:
        raise InvalidInput(errors)


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
        errors["email"] = [EMAIL_TAKEN]
    if taken["phone"]:
        errors["phone"] = [PHONE_TAKEN]
    if errors:
        raise InvalidInput(errors)


def _save_customer(customer: Customer) -> None:
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as error:  # Another request saved the same person a moment ago.
        raise InvalidInput({"email": [JUST_SAVED]}) from error


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
        new_values["notes"] = clean_text(notes, "notes")
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
            record_event(commitment, TimelineEvent.Kind.PREFERENCES, actor=actor, data={"changes": visible}, at=now)
    return customer
