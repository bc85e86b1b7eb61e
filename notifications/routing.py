"""Who gets a message to a customer, by which channel, and when: the channel rules, in one place.

The outbox asks ``route`` when it makes a message; delivery asks ``at_the_door`` again just before
it sends a queued one (the customer may have texted STOP in between), and ``earliest_send`` when
a failed text is tried again. Both answer a ``Route`` from the customer's record alone: no query,
nothing written (the caller writes the row and the timeline note).

The rules, in the customer's interest:
- a customer who prefers the phone gets no automatic call: their owner gets a call task (with
  what to say) at once;
- a text goes to the E.164 number, held to the end of the customer's quiet hours; email goes at
  any hour;
- a customer who prefers email goes by text instead when we have no address or our email cannot
  (bounced) or must not (spam complaint) reach it, and the timeline says so;
- a number that said STOP gets no text: the message goes by email where there is an address that
  works (and the timeline says so), else it is recorded ``suppressed`` with the reason;
- with no way to reach them at all, the message is recorded ``suppressed`` with the reason;
- an automatic update by email to a customer who unsubscribed from them is ``suppressed``
  (silently: they asked for it); the owner's own updates still go.
"""

from dataclasses import dataclass
from datetime import datetime

from commitments.models import Channel, Customer
from notifications import quiet_hours
from notifications.models import Audience, MessageKind

# The timeline's words when a message does not go the way the customer asked. ``{goes}`` is the
# one place the two moments differ: "went" when the outbox routes a new message (read on the
# timeline beside the message that went), "goes" when delivery reroutes a queued one the moment
# before it is sent. (The outbox's and delivery's tests each assert their own tense.)
STOPPED_TEXTS_BY_EMAIL = "This number texted STOP, so the {kind} {goes} by email to {email} instead."
STOPPED_TEXTS_SUPPRESSED = "This number texted STOP and there is no email address on file: the {kind} was not sent."
NO_CONTACT_SUPPRESSED = "There is no email address or phone number on file: the {kind} was not sent."
EMAIL_STOPPED_BY_TEXT = "Email to {email} stopped ({reason}), so the {kind} goes by text to {phone} instead."
EMAIL_STOPPED_SUPPRESSED = "Email to {email} stopped ({reason}) and no text can go instead: the {kind} was not sent."
UNSUBSCRIBED = "They unsubscribed from automatic updates by email."


@dataclass(frozen=True)
class Route:
    """Where and when one message to a customer goes.

    ``channel`` is ``PHONE`` for a call task (the task itself is an email to the owner).
    ``suppressed`` messages are still recorded (as ``suppressed``), with ``reason`` saying why.
    ``note`` is the line for the commitment's timeline when the message does not go the way the
    customer asked ("" when it does, and for an unsubscribe, which they asked for).
    """

    channel: str
    recipient: str
    send_at: datetime
    suppressed: bool = False
    reason: str = ""
    note: str = ""

    @property
    def call_task(self) -> bool:
        return self.channel == Channel.PHONE


def route(customer: Customer, kind: str, *, at: datetime, automatic: bool = False) -> Route:
    """The way a new ``kind`` message made at ``at`` reaches ``customer`` (see the module's rules)."""
    if customer.preferred_channel == Channel.PHONE and customer.phone:
        return Route(Channel.PHONE, customer.phone, at)
    if goes_by_text(customer):
        note = ""
        if customer.email_undeliverable and customer.preferred_channel == Channel.EMAIL:
            note = _email_stopped(EMAIL_STOPPED_BY_TEXT, customer, kind)
        return Route(Channel.SMS, customer.phone, quiet_hours.text_allowed_from(at, customer.zone), note=note)
    wants_text = customer.preferred_channel == Channel.SMS or not customer.email
    chosen = _not_by_text(customer, kind, at=at, asked_for_text=wants_text, goes="went")
    if automatic and chosen.channel == Channel.EMAIL and customer.email_updates_opted_out and not chosen.suppressed:
        return Route(chosen.channel, chosen.recipient, at, suppressed=True, reason=UNSUBSCRIBED, note=chosen.note)
    return chosen


def at_the_door(customer: Customer | None, *, channel: str, audience: str, kind: str, at: datetime) -> Route | None:
    """A queued message looked at again just before it is sent; None when it goes as it was queued.

    Only STOP changes a queued message's way: a text to a number that said STOP since it was
    queued (held for the morning, say) goes by email where there is an address that works, else
    it is not sent. A message with no customer (a lead's digest) or to staff goes as queued.
    """
    if customer is None or channel != Channel.SMS or audience != Audience.CUSTOMER or not customer.sms_opted_out:
        return None
    return _not_by_text(customer, kind, at=at, asked_for_text=True, goes="goes")


def goes_by_text(customer: Customer) -> bool:
    """A message to this customer goes as a text (rather than email or a call task)."""
    wants_text = customer.preferred_channel == Channel.SMS or (
        # An address our email cannot (bounced) or must not (spam complaint) reach counts as none.
        customer.preferred_channel == Channel.EMAIL and (not customer.email or customer.email_undeliverable)
    )
    return wants_text and bool(customer.phone) and not customer.sms_opted_out


def send_time(customer: Customer, when: datetime) -> datetime:
    """When a message made at ``when`` may reach this customer: a text waits out their quiet hours."""
    return quiet_hours.text_allowed_from(when, customer.zone) if goes_by_text(customer) else when


def earliest_send(moment: datetime, *, customer: Customer | None, channel: str, audience: str) -> datetime:
    """``moment``, or later for a text to a customer: it must not wake them (a retry at 20:59 waits)."""
    if customer is not None and channel == Channel.SMS and audience == Audience.CUSTOMER:
        return quiet_hours.text_allowed_from(moment, customer.zone)
    return moment


def kind_label(kind: str) -> str:
    """The message's kind as the timeline names it: "status update", "acknowledgement"."""
    return MessageKind(kind).label.lower() if kind in MessageKind.values else kind.replace("_", " ")


def _not_by_text(customer: Customer, kind: str, *, at: datetime, asked_for_text: bool, goes: str) -> Route:
    """A message that cannot go as a text: by email where it can, else suppressed with the reason."""
    if customer.email_undeliverable:
        reason = _email_stopped(EMAIL_STOPPED_SUPPRESSED, customer, kind)
        return Route(Channel.EMAIL, customer.email, at, suppressed=True, reason=reason, note=reason)
    if customer.email:
        note = ""
        if asked_for_text and customer.sms_opted_out:
            note = STOPPED_TEXTS_BY_EMAIL.format(kind=kind_label(kind), goes=goes, email=customer.email)
        return Route(Channel.EMAIL, customer.email, at, note=note)
    reason = (STOPPED_TEXTS_SUPPRESSED if customer.sms_opted_out else NO_CONTACT_SUPPRESSED).format(
        kind=kind_label(kind)
    )
    return Route(Channel.SMS, customer.phone, at, suppressed=True, reason=reason, note=reason)


def _email_stopped(template: str, customer: Customer, kind: str) -> str:
    return template.format(
        email=customer.email, reason=customer.undeliverable_email_reason, phone=customer.phone, kind=kind_label(kind)
    )
