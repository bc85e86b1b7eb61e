"""The channel rules (``notifications.routing``): who gets a message by which channel, and when.

Each rule is asked of a real customer record, as the outbox and delivery ask it; the last tests
check that the outbox and delivery, both asking, write the same words on the timeline.
"""

from datetime import UTC, datetime

import pytest

from commitments.models import Channel, Customer, TimelineEvent
from notifications import delivery, routing
from notifications.models import Audience, DeliveryStatus, MessageKind, Notification
from tests.factories import customer_details, make_commitment

pytestmark = pytest.mark.django_db

NOON_IN_NEW_YORK = datetime(2026, 11, 24, 17, tzinfo=UTC)
NIGHT_IN_NEW_YORK = datetime(2026, 11, 25, 3, 30, tzinfo=UTC)  # 22:30 EST
MORNING_IN_NEW_YORK = datetime(2026, 11, 25, 13, tzinfo=UTC)  # 08:00 EST, when quiet hours end


def dana(team, **changes: object) -> Customer:
    """Dana, in New York, with an email address and a phone number; saved, then read back."""
    values: dict = {
        "name": "Dana Whitfield",
        "email": "dana@example.com",
        "phone": "+12025550123",
        "preferred_channel": Channel.EMAIL,
        "timezone": "America/New_York",
        **changes,
    }
    customer = Customer.objects.create(team=team, **values)
    customer.refresh_from_db()
    return customer


def bounced(customer: Customer) -> Customer:
    customer.undeliverable_email = customer.email
    customer.undeliverable_email_reason = "bounced: mailbox unavailable"
    customer.save()
    customer.refresh_from_db()
    return customer


# --- Email, texts and quiet hours ------------------------------------------------------------


def test_email_goes_to_the_address_at_any_hour(team):
    way = routing.route(dana(team), MessageKind.STATUS_UPDATE, at=NIGHT_IN_NEW_YORK)
    assert way == routing.Route(Channel.EMAIL, "dana@example.com", NIGHT_IN_NEW_YORK)


def test_a_text_goes_to_the_number_and_waits_out_the_customers_quiet_hours(team):
    customer = dana(team, preferred_channel=Channel.SMS)
    assert routing.route(customer, MessageKind.STATUS_UPDATE, at=NOON_IN_NEW_YORK) == routing.Route(
        Channel.SMS, "+12025550123", NOON_IN_NEW_YORK
    )
    assert routing.route(customer, MessageKind.STATUS_UPDATE, at=NIGHT_IN_NEW_YORK).send_at == MORNING_IN_NEW_YORK
    assert routing.send_time(customer, NIGHT_IN_NEW_YORK) == MORNING_IN_NEW_YORK


def test_a_customer_who_prefers_email_but_gave_none_is_texted(team):
    customer = dana(team, email="")
    way = routing.route(customer, MessageKind.ACKNOWLEDGEMENT, at=NOON_IN_NEW_YORK)
    assert (way.channel, way.recipient, way.suppressed, way.note) == (Channel.SMS, "+12025550123", False, "")
    assert routing.goes_by_text(customer)


def test_a_retry_of_a_text_to_a_customer_waits_for_the_morning_and_nothing_else_does(team):
    customer = dana(team, preferred_channel=Channel.SMS)
    held = routing.earliest_send(NIGHT_IN_NEW_YORK, customer=customer, channel=Channel.SMS, audience=Audience.CUSTOMER)
    assert held == MORNING_IN_NEW_YORK
    assert (
        routing.earliest_send(NIGHT_IN_NEW_YORK, customer=customer, channel=Channel.EMAIL, audience=Audience.CUSTOMER)
        == NIGHT_IN_NEW_YORK
    )
    assert (
        routing.earliest_send(NIGHT_IN_NEW_YORK, customer=None, channel=Channel.SMS, audience=Audience.STAFF)
        == NIGHT_IN_NEW_YORK
    )


# --- The phone -------------------------------------------------------------------------------


def test_a_customer_who_prefers_the_phone_becomes_a_call_task_at_once_even_at_night(team):
    way = routing.route(dana(team, preferred_channel=Channel.PHONE), MessageKind.ACKNOWLEDGEMENT, at=NIGHT_IN_NEW_YORK)
    assert way.call_task and (way.recipient, way.send_at, way.note) == ("+12025550123", NIGHT_IN_NEW_YORK, "")


def test_a_customer_who_prefers_the_phone_but_gave_no_number_gets_email(team):
    way = routing.route(
        dana(team, preferred_channel=Channel.PHONE, phone=""), MessageKind.ACKNOWLEDGEMENT, at=NOON_IN_NEW_YORK
    )
    assert not way.call_task and (way.channel, way.recipient) == (Channel.EMAIL, "dana@example.com")


# --- STOP ------------------------------------------------------------------------------------


def test_after_stop_a_text_goes_by_email_and_says_so(team):
    way = routing.route(
        dana(team, preferred_channel=Channel.SMS, sms_opted_out=True), MessageKind.STATUS_UPDATE, at=NIGHT_IN_NEW_YORK
    )
    assert (way.channel, way.recipient, way.send_at, way.suppressed) == (
        Channel.EMAIL,
        "dana@example.com",
        NIGHT_IN_NEW_YORK,  # Email is not held for the night.
        False,
    )
    assert way.note == "This number texted STOP, so the status update went by email to dana@example.com instead."


def test_after_stop_a_customer_who_prefers_email_just_gets_email(team):
    way = routing.route(dana(team, sms_opted_out=True), MessageKind.STATUS_UPDATE, at=NOON_IN_NEW_YORK)
    assert (way.channel, way.suppressed, way.note) == (Channel.EMAIL, False, "")


def test_after_stop_without_an_email_address_nothing_goes_and_the_reason_is_given(team):
    way = routing.route(
        dana(team, preferred_channel=Channel.SMS, email="", sms_opted_out=True),
        MessageKind.STATUS_UPDATE,
        at=NOON_IN_NEW_YORK,
    )
    assert (way.channel, way.recipient, way.suppressed) == (Channel.SMS, "+12025550123", True)
    assert (
        way.reason
        == way.note
        == ("This number texted STOP and there is no email address on file: the status update was not sent.")
    )


def test_without_any_address_or_number_nothing_goes_and_the_reason_is_given(team):
    way = routing.route(dana(team, email="", phone=""), MessageKind.ACKNOWLEDGEMENT, at=NOON_IN_NEW_YORK)
    assert way.suppressed
    assert way.note == "There is no email address or phone number on file: the acknowledgement was not sent."


# --- An email address that cannot be used ----------------------------------------------------


def test_an_email_that_bounced_goes_by_text_instead_and_says_so(team):
    way = routing.route(bounced(dana(team)), MessageKind.STATUS_UPDATE, at=NIGHT_IN_NEW_YORK)
    assert (way.channel, way.recipient, way.send_at, way.suppressed) == (
        Channel.SMS,
        "+12025550123",
        MORNING_IN_NEW_YORK,
        False,
    )
    assert way.note == (
        "Email to dana@example.com stopped (bounced: mailbox unavailable), "
        "so the status update goes by text to +12025550123 instead."
    )


def test_an_email_that_bounced_with_no_text_possible_is_suppressed_with_the_reason(team):
    way = routing.route(bounced(dana(team, sms_opted_out=True)), MessageKind.STATUS_UPDATE, at=NOON_IN_NEW_YORK)
    assert (way.channel, way.suppressed) == (Channel.EMAIL, True)
    assert (
        way.reason
        == way.note
        == (
            "Email to dana@example.com stopped (bounced: mailbox unavailable) and no text can go instead: "
            "the status update was not sent."
        )
    )


# --- Unsubscribed ----------------------------------------------------------------------------


def test_an_unsubscribed_customer_gets_no_automatic_email_but_the_owners_own_and_texts_still_go(team):
    customer = dana(team, email_updates_opted_out=True)
    automatic = routing.route(customer, MessageKind.STATUS_UPDATE, at=NOON_IN_NEW_YORK, automatic=True)
    assert automatic.suppressed and automatic.reason == routing.UNSUBSCRIBED
    assert automatic.note == ""  # They asked for it: nothing to explain on the timeline.
    assert not routing.route(customer, MessageKind.STATUS_UPDATE, at=NOON_IN_NEW_YORK).suppressed
    texting = dana(
        team,
        name="Kenji Sato",
        email="kenji@example.com",
        phone="+12025550144",
        preferred_channel=Channel.SMS,
        email_updates_opted_out=True,
    )
    assert not routing.route(texting, MessageKind.STATUS_UPDATE, at=NOON_IN_NEW_YORK, automatic=True).suppressed


# --- At the door: a queued message looked at again -------------------------------------------


def test_at_the_door_only_a_customers_text_to_a_number_that_said_stop_changes_its_way(team):
    stopped = dana(team, preferred_channel=Channel.SMS, sms_opted_out=True)
    assert (
        routing.at_the_door(
            stopped,
            channel=Channel.EMAIL,
            audience=Audience.CUSTOMER,
            kind=MessageKind.STATUS_UPDATE,
            at=NOON_IN_NEW_YORK,
        )
        is None
    )
    assert (
        routing.at_the_door(
            stopped, channel=Channel.SMS, audience=Audience.STAFF, kind=MessageKind.STATUS_UPDATE, at=NOON_IN_NEW_YORK
        )
        is None
    )
    assert (
        routing.at_the_door(
            None, channel=Channel.SMS, audience=Audience.CUSTOMER, kind=MessageKind.STATUS_UPDATE, at=NOON_IN_NEW_YORK
        )
        is None
    )
    texting = dana(
        team, name="Kenji Sato", email="kenji@example.com", phone="+12025550144", preferred_channel=Channel.SMS
    )
    assert (
        routing.at_the_door(
            texting,
            channel=Channel.SMS,
            audience=Audience.CUSTOMER,
            kind=MessageKind.STATUS_UPDATE,
            at=NOON_IN_NEW_YORK,
        )
        is None
    )

    way = routing.at_the_door(
        stopped, channel=Channel.SMS, audience=Audience.CUSTOMER, kind=MessageKind.STATUS_UPDATE, at=NOON_IN_NEW_YORK
    )
    assert way is not None and (way.channel, way.recipient, way.suppressed) == (
        Channel.EMAIL,
        "dana@example.com",
        False,
    )
    assert way.note == "This number texted STOP, so the status update goes by email to dana@example.com instead."


def test_outbox_and_delivery_give_the_same_reason_when_stop_leaves_no_way(agent, daytime_zone):
    # Given Sam, who prefers texts and has no email address, with a text queued to him
    sam = customer_details(
        name="Sam Ortiz", email="", preferred_channel="sms", phone="2025550142", timezone=daytime_zone
    )
    queued_before = make_commitment(actor=agent, customer=sam)
    # When he texts STOP, and then a second promise to him is logged
    Customer.objects.filter(pk=queued_before.customer_id).update(sms_opted_out=True)
    logged_after = make_commitment(actor=agent, customer=sam, summary="Order the part")
    # and delivery reaches the text queued before
    delivery.deliver_due()

    # Then neither message goes, and both timelines give the same reason in the same words
    reason = "This number texted STOP and there is no email address on file: the acknowledgement was not sent."
    for commitment in (queued_before, logged_after):
        assert (
            Notification.objects.get(commitment=commitment, kind=MessageKind.ACKNOWLEDGEMENT).status
            == DeliveryStatus.SUPPRESSED
        )
        assert commitment.events.filter(kind=TimelineEvent.Kind.MESSAGE, message=reason).exists()
