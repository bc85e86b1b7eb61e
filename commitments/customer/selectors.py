"""Reads for the customer's status page: what we promised and what we told them, in plain words.

Only what the customer may see leaves this module: the timeline events that describe what we said
to them or what they did, and the messages we sent them. Internal notes, hand-offs, escalations,
chases, staff alerts and call tasks never do.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from commitments.models import ACTIVE_STATUSES, Channel, Commitment, Status, TimelineEvent
from notifications.models import Audience, MessageKind, Notification

Event = TimelineEvent.Kind

# Timeline events the customer sees (each one is something we told them, or something they did).
VISIBLE_EVENTS = (
    Event.CREATED,
    Event.UPDATE_SENT,
    Event.RESCHEDULED,
    Event.WAITING,
    Event.RESUMED,
    Event.FULFILLED,
    Event.CONFIRMED,
    Event.REOPENED,
    Event.CANCELLED,
    Event.CUSTOMER_REPLY,
    Event.PREFERENCES,
)
# Messages with no event of their own (the engine's automatic ones) are listed as messages.
AUTOMATIC_KINDS = (MessageKind.STATUS_UPDATE, MessageKind.APOLOGY, MessageKind.SATISFACTION_CHECK)

HEADLINES = {
    Status.OPEN: (gettext_lazy("In progress"), "info", gettext_lazy("We're working on it.")),
    Status.WAITING: (
        gettext_lazy("Waiting for you"),
        "warn",
        gettext_lazy("We need something from you before we can carry on."),
    ),
    Status.FULFILLED: (
        gettext_lazy("Done: is it resolved?"),
        "ok",
        gettext_lazy("We've finished. Please tell us whether it's resolved."),
    ),
    Status.CONFIRMED: (
        gettext_lazy("Resolved"),
        "ok",
        gettext_lazy("You confirmed it's resolved. Thank you for letting us know."),
    ),
    Status.REOPENED: (gettext_lazy("Reopened"), "info", gettext_lazy("It isn't resolved yet, so we're on it again.")),
    Status.MISSED: (
        gettext_lazy("Running late"),
        "bad",
        gettext_lazy("We didn't finish by the time we promised, and we're sorry. We keep you posted until it's done."),
    ),
    Status.CANCELLED: (gettext_lazy("Cancelled"), "muted", gettext_lazy("This request was cancelled.")),
}

CHANNEL_WORDS = {
    Channel.EMAIL: gettext_lazy("by email"),
    Channel.SMS: gettext_lazy("by text message"),
    Channel.PHONE: gettext_lazy("by phone call"),
}


@dataclass(frozen=True)
class Moment:
    """A time as the customer reads it: ``tomorrow at 9:00 am``, with the exact time for ``<time>``."""

    at: datetime
    words: str

    @property
    def iso(self) -> str:
        return self.at.isoformat()


@dataclass(frozen=True)
class HistoryEntry:
    when: Moment
    title: str
    text: str = ""
    from_customer: bool = False
    message_body: str = ""  # The whole message we sent, for automatic messages.
    is_news: bool = True  # False for bookkeeping (a change of contact details) that is no update.


@dataclass(frozen=True)
class StatusPage:
    commitment: Commitment
    owner_name: str
    team_name: str
    headline: str
    tone: str
    explanation: str
    zone_label: str
    due: Moment
    next_update: Moment | None
    fulfilled: Moment | None
    latest: HistoryEntry | None
    history: list[HistoryEntry] = field(default_factory=list)
    channel_words: str = ""

    @property
    def is_waiting(self) -> bool:
        return self.commitment.status == Status.WAITING

    @property
    def asks_if_resolved(self) -> bool:
        return self.commitment.status == Status.FULFILLED


def status_page(*, commitment: Commitment, now: datetime | None = None) -> StatusPage:
    now = now or timezone.now()
    zone = commitment.customer.zone
    headline, tone, explanation = HEADLINES[Status(commitment.status)]
    history = customer_history(commitment=commitment, now=now)
    # The latest news on the request: ours, or the customer's own (a reopen, an answer).
    latest = next((entry for entry in history if entry.is_news), None)
    next_update = None
    if commitment.status in ACTIVE_STATUSES and commitment.next_update_at:
        next_update = moment(max(commitment.next_update_at, now), zone, now)
    return StatusPage(
        commitment=commitment,
        owner_name=first_name(commitment),
        team_name=commitment.team.name,
        headline=str(headline),
        tone=tone,
        explanation=str(explanation),
        zone_label=zone_label(zone, now),
        due=moment(commitment.due_at, zone, now),
        next_update=next_update,
        fulfilled=moment(commitment.fulfilled_at, zone, now) if commitment.fulfilled_at else None,
        latest=latest,
        history=history,
        channel_words=str(CHANNEL_WORDS.get(Channel(commitment.customer.preferred_channel), "")),
    )


def customer_history(*, commitment: Commitment, now: datetime) -> list[HistoryEntry]:
    """What we told the customer and what they told us, newest first."""
    zone = commitment.customer.zone
    owner = first_name(commitment)
    events = list(
        commitment.events.filter(kind__in=VISIBLE_EVENTS, created_at__lte=now).select_related("actor").order_by("pk")
    )
    entries = [entry for event in events if (entry := _event_entry(event, zone, now, owner)) is not None]
    # A status update an agent wrote is an UPDATE_SENT event already; list only the automatic ones.
    written = {f"{commitment.pk}:status_update:{event.pk}" for event in events if event.kind == Event.UPDATE_SENT}
    messages = Notification.objects.filter(
        commitment=commitment, audience=Audience.CUSTOMER, kind__in=AUTOMATIC_KINDS, scheduled_for__lte=now
    ).exclude(idempotency_key__in=written)
    entries += [_message_entry(message, zone, now) for message in messages]
    entries.sort(key=lambda entry: entry.when.at, reverse=True)
    return entries


# A closed commitment's link keeps showing where things stood, but changes nothing after this long.
READ_ONLY_AFTER = timedelta(days=30)


def link_is_read_only(commitment: Commitment, now: datetime | None = None) -> bool:
    """True once the commitment was confirmed or cancelled more than 30 days ago."""
    if commitment.status not in (Status.CONFIRMED, Status.CANCELLED):
        return False
    closed_at = commitment.confirmed_at if commitment.status == Status.CONFIRMED else commitment.cancelled_at
    closed_at = closed_at or commitment.updated_at
    return closed_at <= (now or timezone.now()) - READ_ONLY_AFTER


def masked_email(email: str) -> str:
    """``d•••@example.com``: enough for the customer to recognise, too little for whoever else holds the link."""
    name, at, domain = email.partition("@")
    return f"{name[:1]}•••{at}{domain}" if email else ""


def masked_phone(phone: str) -> str:
    """``•••• 0123``: the last four digits only."""
    return f"•••• {phone[-4:]}" if phone else ""


def first_name(commitment: Commitment) -> str:
    owner = commitment.owner
    return owner.first_name or owner.get_username()


def moment(at: datetime, zone: ZoneInfo, now: datetime) -> Moment:
    return Moment(at=at, words=friendly_time(at, zone, now))


def friendly_time(at: datetime, zone: ZoneInfo, now: datetime) -> str:
    """``today at 3:00 pm``, ``tomorrow at 9:00 am``, ``Tuesday 12 May at 5:30 pm`` in the customer's zone."""
    local = timezone.localtime(at, zone)
    today = timezone.localtime(now, zone).date()
    language = translation.get_language() or "en"
    if language.startswith("en"):
        clock = f"{local.hour % 12 or 12}:{local.minute:02d} {'am' if local.hour < 12 else 'pm'}"
    else:  # Other languages write the clock the way their CLDR pattern says (``15:00``).
        clock = format_datetime(local, pgettext("time pattern", "h:mm a"), locale=language.replace("-", "_"))
    return _("%(day)s at %(time)s") % {"day": _day_words(local, today, language), "time": clock}


def _day_words(local: datetime, today: date, language: str) -> str:
    day = local.date()
    if day == today:
        return _("today")
    if day == today + timedelta(days=1):
        return _("tomorrow")
    if day == today - timedelta(days=1):
        return _("yesterday")
    if language.startswith("en"):
        words = f"{day:%A} {day.day} {day:%B}"
        return words if day.year == today.year else f"{words} {day.year}"
    pattern = (
        pgettext("date pattern", "EEEE d MMMM") if day.year == today.year else pgettext("date pattern", "EEEE d MMMM y")
    )
    return format_datetime(local, pattern, locale=language.replace("-", "_"))


def zone_label(zone: ZoneInfo, now: datetime) -> str:
    """``New York time (EDT)``."""
    place = str(zone.key).rsplit("/", 1)[-1].replace("_", " ")
    if place == "UTC":
        return "UTC"
    abbreviation = timezone.localtime(now, zone).tzname() or ""
    suffix = f" ({abbreviation})" if abbreviation and not abbreviation.startswith(("+", "-")) else ""
    return _("%(place)s time") % {"place": place} + suffix


def _event_entry(event: TimelineEvent, zone: ZoneInfo, now: datetime, owner: str) -> HistoryEntry | None:
    when = moment(event.created_at, zone, now)
    by_customer = event.actor_label == "customer" and event.actor_id is None
    kind = event.kind
    if kind == Event.CREATED:
        return HistoryEntry(
            when, _("We logged your request"), _("%(owner)s is looking after it for you.") % {"owner": owner}
        )
    if kind == Event.UPDATE_SENT:
        writer = (event.actor.first_name or event.actor.get_username()) if event.actor else owner
        return HistoryEntry(when, _("Update from %(writer)s") % {"writer": writer}, event.message)
    if kind == Event.RESCHEDULED:
        return HistoryEntry(when, _("New time: %(time)s") % {"time": _new_time(event, zone, now)}, event.message)
    if kind == Event.WAITING:
        return HistoryEntry(when, _("We asked you for something"), event.message)
    if kind == Event.RESUMED:
        title = _("Thanks: we're back on it") if by_customer else _("We picked it up again")
        return HistoryEntry(when, title, _("New time: %(time)s.") % {"time": _new_time(event, zone, now)})
    if kind == Event.FULFILLED:
        return HistoryEntry(when, _("Done"), event.message)
    if kind == Event.CONFIRMED:
        return HistoryEntry(when, _("You confirmed it's resolved"), from_customer=True)
    if kind == Event.REOPENED:
        if by_customer:
            return HistoryEntry(when, _("You told us it's still a problem"), event.message, from_customer=True)
        return HistoryEntry(when, _("We reopened your request"))  # Staff reasons can be internal.
    if kind == Event.CANCELLED:
        return HistoryEntry(when, _("Cancelled"), event.message)
    if kind == Event.CUSTOMER_REPLY:
        if event.data.get("keyword"):
            return None
        title = _("You texted us") if event.data.get("via") == "sms" else _("You wrote us")
        return HistoryEntry(when, title, event.message, from_customer=True)
    if kind == Event.PREFERENCES and by_customer:
        words = _preference_words(event)
        return HistoryEntry(when, _("You changed how we reach you"), words, from_customer=True, is_news=False)
    return None


def _new_time(event: TimelineEvent, zone: ZoneInfo, now: datetime) -> str:
    to = parse_datetime(str(event.data.get("to", "")))
    return friendly_time(to, zone, now) if to else _("to be confirmed")


def _preference_words(event: TimelineEvent) -> str:
    """What changed, without the contact details themselves (the link may be forwarded)."""
    changes = event.data.get("changes", {})
    parts = []
    if "preferred_channel" in changes:
        parts.append(_("We now reach you %(how)s.") % {"how": CHANNEL_WORDS.get(changes["preferred_channel"][1], "")})
    if "email" in changes:
        parts.append(_("You updated your email address."))
    if "phone" in changes:
        parts.append(_("You updated your phone number."))
    if "sms_opted_out" in changes:
        parts.append(_("We no longer text you.") if changes["sms_opted_out"][1] else _("We may text you again."))
    if "email_updates_opted_out" in changes:
        stopped = changes["email_updates_opted_out"][1]
        parts.append(_("Automatic email updates stopped.") if stopped else _("Automatic email updates resumed."))
    return " ".join(parts)


MESSAGE_TITLES = {
    MessageKind.STATUS_UPDATE: gettext_lazy("Status update"),
    MessageKind.APOLOGY: gettext_lazy("Our apology"),
    MessageKind.SATISFACTION_CHECK: gettext_lazy("We asked whether it's resolved"),
}


def _message_entry(message: Notification, zone: ZoneInfo, now: datetime) -> HistoryEntry:
    how = CHANNEL_WORDS.get(Channel(message.channel), "")
    return HistoryEntry(
        moment(message.scheduled_for, zone, now),
        str(MESSAGE_TITLES.get(MessageKind(message.kind), _("Message"))),
        _("Sent to you %(how)s.") % {"how": how} if how else "",
        message_body=message.body,
    )
