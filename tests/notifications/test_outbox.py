"""The outbox: which channel each message takes, quiet hours for texts, STOP, phone call tasks.

What is asserted is what the outbox made (Notification rows) and what the timeline says; the
delivery of those rows is tested in test_delivery.py.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from commitments import services
from commitments.errors import IllegalMove, NotAllowed
from commitments.models import Channel, Customer, TimelineEvent
from notifications import call_tasks, outbox, routing
from notifications.channels.email import build_email
from notifications.models import Audience, DeliveryStatus, MessageKind, Notification
from notifications.quiet_hours import QuietHours, parse_quiet_hours
from tests.factories import customer_details, make_commitment

pytestmark = pytest.mark.django_db


def at(moment: str | datetime):
    return time_machine.travel(moment, tick=False)


def acknowledgement(commitment) -> Notification:
    return Notification.objects.get(commitment=commitment, kind=MessageKind.ACKNOWLEDGEMENT)


def notes(commitment) -> list[str]:
    return list(
        TimelineEvent.objects.filter(commitment=commitment, kind=TimelineEvent.Kind.MESSAGE).values_list(
            "message", flat=True
        )
    )


# --- Channels -------------------------------------------------------------------------------


def test_a_customer_who_prefers_email_gets_email_and_it_is_enqueued_after_commit(
    agent, django_capture_on_commit_callbacks
):
    # When a promise to Dana (email) is logged
    with django_capture_on_commit_callbacks() as callbacks:
        commitment = make_commitment(actor=agent, customer=customer_details(preferred_channel="email"))

    # Then her acknowledgement is an email to her address, pending, due now, enqueued once committed
    row = acknowledgement(commitment)
    assert (row.channel, row.recipient, row.audience, row.status) == (
        Channel.EMAIL,
        "dana@example.com",
        Audience.CUSTOMER,
        DeliveryStatus.PENDING,
    )
    assert row.subject == "We are on it: Send the repair estimate"
    assert len(callbacks) == 1
    # and the mail that goes out has the text and an HTML version, drawn when it is sent
    [(html, mimetype)] = build_email(row).alternatives
    assert isinstance(html, str) and html.startswith("<!doctype html>")
    assert mimetype == "text/html" and row.html_body == ""


def test_a_customer_who_prefers_texts_gets_a_text_to_their_e164_number(agent):
    with at("2026-11-24 15:00Z"):  # 10:00 in New York
        commitment = make_commitment(
            actor=agent, customer=customer_details(preferred_channel="sms", phone="2025550199")
        )

    row = acknowledgement(commitment)
    assert (row.channel, row.recipient, row.status) == (Channel.SMS, "+12025550199", DeliveryStatus.PENDING)
    assert row.subject == "" and commitment.status_url in row.body
    assert row.scheduled_for == row.next_attempt_at == datetime(2026, 11, 24, 15, tzinfo=UTC)


def test_after_stop_a_text_goes_by_email_and_the_timeline_says_so(agent):
    # Given Dana prefers texts but texted STOP
    commitment = make_commitment(actor=agent, customer=customer_details(preferred_channel="sms"))
    Customer.objects.filter(pk=commitment.customer_id).update(sms_opted_out=True)
    commitment.customer.refresh_from_db()

    # When the owner sends her an update
    services.send_update(actor=agent, commitment=commitment, message="The estimate is almost ready")

    # Then it goes by email, and the timeline says why
    row = Notification.objects.get(commitment=commitment, kind=MessageKind.STATUS_UPDATE)
    assert (row.channel, row.recipient, row.status) == (Channel.EMAIL, "dana@example.com", DeliveryStatus.PENDING)
    assert notes(commitment) == [
        "This number texted STOP, so the status update went by email to dana@example.com instead."
    ]


def test_after_stop_without_an_email_the_message_is_recorded_suppressed(agent):
    # Given Sam prefers texts, has no email address and texted STOP
    commitment = make_commitment(
        actor=agent, customer=customer_details(name="Sam Ortiz", email="", preferred_channel="sms", phone="2025550142")
    )
    Customer.objects.filter(pk=commitment.customer_id).update(sms_opted_out=True)
    commitment.customer.refresh_from_db()

    # When the owner sends him an update
    services.send_update(actor=agent, commitment=commitment, message="The estimate is almost ready")

    # Then the update is still a notification on the commitment, suppressed, and the timeline says why
    row = Notification.objects.get(commitment=commitment, kind=MessageKind.STATUS_UPDATE)
    assert (row.channel, row.recipient, row.status) == (Channel.SMS, "+12025550142", DeliveryStatus.SUPPRESSED)
    assert notes(commitment) == [
        "This number texted STOP and there is no email address on file: the status update was not sent."
    ]


def test_a_customer_who_prefers_calls_gets_no_message_and_the_owner_gets_a_call_task(agent):
    # When a promise to Dana, who prefers calls, is logged
    with at("2026-11-24 15:00Z"):
        commitment = make_commitment(actor=agent, customer=customer_details(preferred_channel="phone"))

    # Then nothing goes to Dana: her owner has a call task by email, with what to say and her number
    row = Notification.objects.get(commitment=commitment)
    assert (row.kind, row.audience, row.channel, row.recipient, row.recipient_user) == (
        MessageKind.CALL_TASK,
        Audience.STAFF,
        Channel.EMAIL,
        agent.email,
        agent,
    )
    assert row.customer_kind == MessageKind.ACKNOWLEDGEMENT and row.completed_at is None
    assert row.subject == "Call Dana Whitfield: confirm our promise (Send the repair estimate)"
    assert "+1 202-555-0123" in row.body and "What to say:" in row.body and commitment.status_url in row.body
    # and it escalates one update interval later when not done
    assert row.escalate_at == datetime(2026, 11, 25, 15, tzinfo=UTC)


def test_an_unsubscribed_customer_gets_no_automatic_email_update_but_still_the_owners_own(agent):
    # Given Dana unsubscribed from automatic updates by email
    commitment = make_commitment(actor=agent)
    Customer.objects.filter(pk=commitment.customer_id).update(email_updates_opted_out=True)
    commitment.customer.refresh_from_db()

    # When an automatic update and then the owner's own update are made
    outbox.notify_customer(commitment, MessageKind.STATUS_UPDATE, key="auto-1", automatic=True)
    services.send_update(actor=agent, commitment=commitment, message="The estimate is ready tomorrow")

    # Then the automatic one is suppressed and the owner's own one goes out
    statuses = dict(
        Notification.objects.filter(kind=MessageKind.STATUS_UPDATE).values_list("idempotency_key", "status")
    )
    assert statuses.pop("auto-1") == DeliveryStatus.SUPPRESSED
    assert list(statuses.values()) == [DeliveryStatus.PENDING]


def test_the_same_key_makes_nothing_twice(agent):
    commitment = make_commitment(actor=agent)
    first = outbox.notify_customer(commitment, MessageKind.STATUS_UPDATE, key="same", message="One")
    second = outbox.notify_customer(commitment, MessageKind.STATUS_UPDATE, key="same", message="Two")
    assert len(first) == 1 and second == []
    assert Notification.objects.filter(idempotency_key="same").count() == 1


def test_staff_get_one_email_each_and_staff_without_an_address_are_skipped(agent, lead, colleague):
    commitment = make_commitment(actor=agent)
    colleague.email = ""
    colleague.save()
    rows = outbox.notify_staff(
        commitment, MessageKind.ALERT, recipients=[agent, lead, agent, colleague], key="alert", message="Heads up"
    )
    assert sorted(row.recipient for row in rows) == sorted([agent.email, lead.email])
    assert all(row.audience == Audience.STAFF and "Heads up." in row.body for row in rows)


def test_cancelling_suppresses_what_is_unsent_and_stops_call_task_escalation(agent):
    # Given a call task still open for Dana, who prefers calls
    commitment = make_commitment(actor=agent, customer=customer_details(preferred_channel="phone"))

    # When the promise is cancelled
    services.cancel(actor=agent, commitment=commitment, reason="Dana found another contractor")

    # Then the open call task is suppressed and will not escalate; the cancellation is a new call task
    task = Notification.objects.get(commitment=commitment, customer_kind=MessageKind.ACKNOWLEDGEMENT)
    assert task.status == DeliveryStatus.SUPPRESSED and task.escalate_at is None
    cancellation = Notification.objects.get(commitment=commitment, customer_kind=MessageKind.CANCELLATION)
    assert cancellation.status == DeliveryStatus.PENDING


# --- Quiet hours ----------------------------------------------------------------------------


def test_a_text_made_at_night_is_held_to_the_end_of_quiet_hours_and_not_enqueued_now(
    agent, django_capture_on_commit_callbacks
):
    # Given 22:30 in New York (03:30 UTC)
    with at("2026-11-25 03:30Z"), django_capture_on_commit_callbacks() as callbacks:
        # When a promise to Dana, who prefers texts, is logged
        commitment = make_commitment(actor=agent, customer=customer_details(preferred_channel="sms"))

    # Then her text waits for 08:00 her time, and nothing is enqueued before then
    row = acknowledgement(commitment)
    assert row.scheduled_for == row.next_attempt_at == datetime(2026, 11, 25, 13, tzinfo=UTC)  # 08:00 EST
    assert callbacks == []


def test_email_is_not_held_at_night(agent):
    with at("2026-11-25 03:30Z"):
        commitment = make_commitment(actor=agent)
    assert acknowledgement(commitment).scheduled_for == datetime(2026, 11, 25, 3, 30, tzinfo=UTC)


def test_the_next_automatic_update_counts_from_when_the_held_text_goes_out(agent):
    with at("2026-11-25 03:30Z"):
        commitment = make_commitment(actor=agent, customer=customer_details(preferred_channel="sms"))
        assert routing.send_time(commitment.customer, timezone.now()) == datetime(2026, 11, 25, 13, tzinfo=UTC)


@pytest.mark.parametrize(
    ("made_at", "held_to"),
    [
        # Spring forward, Sunday 8 March 2026: the night is an hour shorter; 08:00 EDT is 12:00 UTC.
        ("2026-03-08 03:00Z", datetime(2026, 3, 8, 12, tzinfo=UTC)),  # 22:00 EST on Saturday
        ("2026-03-08 11:30Z", datetime(2026, 3, 8, 12, tzinfo=UTC)),  # 07:30 EDT on Sunday
        # Fall back, Sunday 1 November 2026: the night is an hour longer; 08:00 EST is 13:00 UTC.
        ("2026-11-01 02:00Z", datetime(2026, 11, 1, 13, tzinfo=UTC)),  # 22:00 EDT on Saturday
        ("2026-11-01 06:30Z", datetime(2026, 11, 1, 13, tzinfo=UTC)),  # 01:30 EDT, the hour that repeats
        ("2026-11-01 12:30Z", datetime(2026, 11, 1, 13, tzinfo=UTC)),  # 07:30 EST
        ("2026-11-01 13:00Z", datetime(2026, 11, 1, 13, tzinfo=UTC)),  # 08:00 EST: quiet hours are over
    ],
)
def test_quiet_hours_end_at_eight_local_on_daylight_saving_days(agent, made_at, held_to):
    with at(made_at):
        commitment = make_commitment(actor=agent, customer=customer_details(preferred_channel="sms"))
    assert acknowledgement(commitment).scheduled_for == held_to


def test_quiet_hours_are_read_from_the_setting_and_can_be_off():
    window = parse_quiet_hours("21:00-08:00")
    assert window == QuietHours(starts=datetime(2000, 1, 1, 21).time(), ends=datetime(2000, 1, 1, 8).time())
    assert parse_quiet_hours("off") is None
    daytime = parse_quiet_hours("12:00-13:30")
    assert daytime is not None and daytime.is_quiet(datetime(2000, 1, 1, 12, 45).time())
    assert not daytime.is_quiet(datetime(2000, 1, 1, 13, 30).time())


def test_with_quiet_hours_off_a_text_goes_at_once(agent, settings):
    settings.FOLLOWTHROUGH_QUIET_HOURS = ""
    with at("2026-11-25 03:30Z"):
        commitment = make_commitment(actor=agent, customer=customer_details(preferred_channel="sms"))
    assert acknowledgement(commitment).scheduled_for == datetime(2026, 11, 25, 3, 30, tzinfo=UTC)


# --- Logging a call -------------------------------------------------------------------------


def test_logging_a_call_closes_the_task_and_counts_as_the_customer_hearing_from_us(agent):
    # Given a call task for Dana, two hours old
    with at("2026-11-24 15:00Z"):
        commitment = make_commitment(actor=agent, customer=customer_details(preferred_channel="phone"))
    task = Notification.objects.get(commitment=commitment, kind=MessageKind.CALL_TASK)

    # When the owner logs the call
    with at("2026-11-24 17:00Z"):
        call_tasks.log_call(actor=agent, task=task, note="Told Dana the estimate comes Thursday.")

    # Then the task is done and will not escalate, the call is on the timeline, and the update clock restarts
    task.refresh_from_db()
    commitment.refresh_from_db()
    assert task.completed_at == datetime(2026, 11, 24, 17, tzinfo=UTC) and task.escalate_at is None
    event = TimelineEvent.objects.get(commitment=commitment, kind=TimelineEvent.Kind.CALL_LOGGED)
    assert (event.actor, event.message) == (agent, "Told Dana the estimate comes Thursday.")
    assert commitment.last_update_at == datetime(2026, 11, 24, 17, tzinfo=UTC)
    assert commitment.next_update_at == datetime(2026, 11, 25, 17, tzinfo=UTC)
    assert not Notification.objects.filter(kind=MessageKind.CALL_TASK, completed_at__isnull=True).exists()


def test_a_call_is_logged_once_and_only_by_someone_who_may_act(agent, outsider):
    commitment = make_commitment(actor=agent, customer=customer_details(preferred_channel="phone"))
    task = Notification.objects.get(commitment=commitment, kind=MessageKind.CALL_TASK)
    with pytest.raises(NotAllowed):
        call_tasks.log_call(actor=outsider, task=task, note="")
    call_tasks.log_call(actor=agent, task=task, note="")
    with pytest.raises(IllegalMove):
        call_tasks.log_call(actor=agent, task=task, note="again")
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.CALL_LOGGED).count() == 1


def test_one_call_closes_the_older_open_tasks_too(agent):
    # Given two open call tasks: the acknowledgement and an update
    commitment = make_commitment(actor=agent, customer=customer_details(preferred_channel="phone"))
    with at(timezone.now() + timedelta(minutes=5)):
        services.send_update(actor=agent, commitment=commitment, message="The parts are ordered")
    newest = Notification.objects.filter(kind=MessageKind.CALL_TASK).latest("created_at")

    # When the owner logs the newest call
    call_tasks.log_call(actor=agent, task=newest, note="Told her both.")

    # Then both tasks are done
    assert not Notification.objects.filter(kind=MessageKind.CALL_TASK, completed_at__isnull=True).exists()
