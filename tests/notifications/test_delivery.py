"""Delivery, in process: claiming, sending, retrying with backoff, failing loudly, never twice.

Against the real PostgreSQL, a real SMTP server and local servers that speak the SMS webhook and
Twilio protocols. Time-driven steps use time-machine; the guarantees about separate worker
processes are in test_delivery_live.py.
"""

import base64
import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from commitments import services
from commitments.models import TimelineEvent
from notifications import delivery, tasks
from notifications.models import Audience, DeliveryStatus, MessageKind, Notification
from tests.factories import customer_details, make_commitment


def acknowledgement_of(commitment) -> Notification:
    return commitment.notifications.get(kind=MessageKind.ACKNOWLEDGEMENT)


def timeline_entry_for(notification: Notification) -> TimelineEvent:
    return TimelineEvent.objects.get(
        commitment=notification.commitment_id,
        kind=TimelineEvent.Kind.MESSAGE,
        data__notification_id=notification.pk,
    )


def alerts_about(commitment) -> list[Notification]:
    return list(commitment.notifications.filter(kind=MessageKind.ALERT))


def seconds_until(moment: datetime) -> float:
    return (moment - timezone.now()).total_seconds()


@pytest.fixture
def texting_customer(daytime_zone):
    return customer_details(preferred_channel="sms", timezone=daytime_zone)


# --- Sent -----------------------------------------------------------------------------------


def test_the_acknowledgement_arrives_once_and_is_on_the_timeline_as_sent(mail_server, agent):
    # Given a promise just logged for Dana
    commitment = make_commitment(actor=agent)

    # When delivery runs
    report = delivery.deliver_due()

    # Then Dana has the acknowledgement, and the outbox and the timeline say it was sent
    assert report.sent == 1
    assert len(mail_server.to("dana@example.com")) == 1
    acknowledgement = acknowledgement_of(commitment)
    assert acknowledgement.status == DeliveryStatus.SENT
    assert acknowledgement.sent_at is not None
    assert acknowledgement.attempts == 1
    assert acknowledgement.leased_until is None
    entry = timeline_entry_for(acknowledgement)
    assert entry.data == {
        "notification_id": acknowledgement.pk,
        "kind": "acknowledgement",
        "channel": "email",
        "recipient": "dana@example.com",
        "audience": "customer",
        "status": "sent",
        "attempts": 1,
    }
    assert entry.message == "Acknowledgement by email sent to dana@example.com."


def test_delivering_again_sends_nothing_more(mail_server, agent):
    # Given the acknowledgement already went out
    commitment = make_commitment(actor=agent)
    delivery.deliver_due()

    # When the task that was enqueued for it, and the sweep, both run again
    delivery.deliver([acknowledgement_of(commitment).pk])
    delivery.deliver_due()

    # Then Dana still has exactly one message
    assert len(mail_server.to("dana@example.com")) == 1
    assert acknowledgement_of(commitment).attempts == 1


def test_a_text_goes_to_the_sms_webhook_with_its_idempotency_key(sms_webhook, agent, texting_customer):
    commitment = make_commitment(actor=agent, customer=texting_customer)

    delivery.deliver([acknowledgement_of(commitment).pk])

    acknowledgement = acknowledgement_of(commitment)
    assert acknowledgement.status == DeliveryStatus.SENT
    assert sms_webhook.keys() == [acknowledgement.idempotency_key]
    assert timeline_entry_for(acknowledgement).data["channel"] == "sms"


def test_a_text_goes_through_twilio(twilio_api, agent, texting_customer):
    commitment = make_commitment(actor=agent, customer=texting_customer)

    delivery.deliver_due()

    assert acknowledgement_of(commitment).status == DeliveryStatus.SENT
    [text] = twilio_api.to("+12025550123")
    assert text["body"] == acknowledgement_of(commitment).body


def test_more_than_a_call_can_carry_is_left_for_the_next_one(mail_server, agent):
    # Given three customers waiting for their acknowledgement
    for number in range(3):
        make_commitment(actor=agent, customer=customer_details(name=f"C{number}", email=f"c{number}@example.com"))

    # When one call may handle two
    first = delivery.deliver_due(limit=2)
    second = delivery.deliver_due(limit=2)

    # Then the first says more are due, and the next one finishes the work
    assert (first.sent, first.more) == (2, True)
    assert (second.sent, second.more) == (1, False)
    assert len(mail_server.messages) == 3


def test_messages_of_a_cancelled_commitment_are_not_sent_but_the_cancellation_is(mail_server, agent):
    # Given a promise cancelled before its acknowledgement went out
    commitment = make_commitment(actor=agent)
    services.cancel(actor=agent, commitment=commitment, reason="The customer bought a new heater elsewhere.")

    # When delivery runs
    delivery.deliver_due()

    # Then only the cancellation notice reaches Dana
    assert acknowledgement_of(commitment).status == DeliveryStatus.SUPPRESSED
    cancellation = commitment.notifications.get(kind=MessageKind.CANCELLATION)
    assert cancellation.status == DeliveryStatus.SENT
    [received] = mail_server.to("dana@example.com")
    assert received["Message-ID"] == cancellation.message_id


# --- Retried --------------------------------------------------------------------------------


def test_smtp_451_is_retried_with_growing_backoff_then_delivered_once(mail_server, agent, time_machine):
    # Given a mail server that answers 451 for now
    time_machine.move_to(timezone.now(), tick=False)
    mail_server.mode = "tempfail"
    commitment = make_commitment(actor=agent)

    # When delivery runs, then the acknowledgement waits about 5 s with the server's answer recorded
    delivery.deliver_due()
    acknowledgement = acknowledgement_of(commitment)
    assert acknowledgement.status == DeliveryStatus.PENDING
    assert acknowledgement.attempts == 1
    assert "451" in acknowledgement.last_error
    assert 5 <= seconds_until(acknowledgement.next_attempt_at) <= 5.5

    # And nothing is tried before that time
    assert delivery.deliver_due().claimed == 0

    # When it is due and the server still says 451, then the wait doubles
    time_machine.move_to(acknowledgement.next_attempt_at)
    delivery.deliver_due()
    acknowledgement.refresh_from_db()
    assert acknowledgement.attempts == 2
    assert 10 <= seconds_until(acknowledgement.next_attempt_at) <= 11

    # When the server is fine again and the time has come, then it arrives, once
    mail_server.mode = "accept"
    time_machine.move_to(acknowledgement.next_attempt_at)
    delivery.deliver_due()
    acknowledgement.refresh_from_db()
    assert acknowledgement.status == DeliveryStatus.SENT
    assert acknowledgement.attempts == 3
    assert acknowledgement.last_error == ""
    assert len(mail_server.to("dana@example.com")) == 1


def test_backoff_grows_to_the_configured_maximum(settings, mail_server, agent, time_machine):
    # Given FOLLOWTHROUGH_RETRY_MAX of 30 s and a mail server that keeps answering 451
    settings.FOLLOWTHROUGH_RETRY_MAX = timedelta(seconds=30)
    time_machine.move_to(timezone.now(), tick=False)
    mail_server.mode = "tempfail"
    commitment = make_commitment(actor=agent)

    # When delivery tries five times
    waits = []
    for _ in range(5):
        delivery.deliver_due()
        acknowledgement = acknowledgement_of(commitment)
        waits.append(seconds_until(acknowledgement.next_attempt_at))
        time_machine.move_to(acknowledgement.next_attempt_at)

    # Then the waits were about 5, 10, 20 s and then never more than 30 s
    assert [round(wait) // 5 * 5 for wait in waits[:3]] == [5, 10, 20]
    assert waits[3:] == [30, 30]
    assert acknowledgement.attempts == 5


def test_smtp_down_is_retried_and_delivered_once_it_is_back(mail_server, agent, time_machine):
    # Given the mail server is down when the acknowledgement is due
    time_machine.move_to(timezone.now(), tick=False)
    commitment = make_commitment(actor=agent)
    mail_server.stop()

    delivery.deliver_due()
    acknowledgement = acknowledgement_of(commitment)
    assert acknowledgement.status == DeliveryStatus.PENDING
    assert "Could not reach the SMTP server" in acknowledgement.last_error

    # When it is back on the same address and the retry is due
    mail_server.start()
    time_machine.move_to(acknowledgement.next_attempt_at)
    delivery.deliver_due()

    # Then Dana has it once
    assert acknowledgement_of(commitment).status == DeliveryStatus.SENT
    assert len(mail_server.to("dana@example.com")) == 1


def test_the_message_id_is_the_same_on_every_attempt(mail_server, agent, time_machine):
    # Given a mail server that reads the whole message and then answers 451
    time_machine.move_to(timezone.now(), tick=False)
    mail_server.mode = "tempfail_data"
    commitment = make_commitment(actor=agent)
    delivery.deliver_due()

    # When the retry goes through
    mail_server.mode = "accept"
    time_machine.move_to(acknowledgement_of(commitment).next_attempt_at)
    delivery.deliver_due()

    # Then both copies carried the same Message-ID, so a receiver can drop a repeat
    [refused] = mail_server.refused
    [accepted] = mail_server.to("dana@example.com")
    assert refused["Message-ID"] == accepted["Message-ID"] == acknowledgement_of(commitment).message_id


@pytest.mark.parametrize("trouble", ["server error", "timeout"])
def test_an_sms_webhook_5xx_or_timeout_is_retried(sms_webhook, agent, texting_customer, time_machine, trouble):
    # Given a gateway that answers 503, or hangs past SMS_TIMEOUT, on the first try
    if trouble == "server error":
        sms_webhook.answers = [503]
    else:
        sms_webhook.stall_next, sms_webhook.stall_seconds = 1, 2
    commitment = make_commitment(actor=agent, customer=texting_customer)

    delivery.deliver_due()
    acknowledgement = acknowledgement_of(commitment)
    assert acknowledgement.status == DeliveryStatus.PENDING
    assert acknowledgement.last_error

    # When the retry is due
    time_machine.move_to(acknowledgement.next_attempt_at + timedelta(seconds=1))
    delivery.deliver_due()

    # Then the text went through once
    assert acknowledgement_of(commitment).status == DeliveryStatus.SENT
    assert sms_webhook.keys() == [acknowledgement.idempotency_key]


def test_a_text_that_must_be_retried_at_night_waits_for_the_morning(sms_webhook, agent, time_machine):
    # Given a New York customer who prefers texts, one second before quiet hours (21:00-08:00)
    new_york_evening = datetime(2026, 3, 10, 20, 59, 58, tzinfo=UTC) + timedelta(hours=4)  # EDT is UTC-4
    time_machine.move_to(new_york_evening, tick=False)
    commitment = make_commitment(actor=agent, customer=customer_details(preferred_channel="sms"))
    sms_webhook.answers = [503]

    # When the first try fails
    delivery.deliver_due()

    # Then the retry is held until 08:00 in New York, not a few seconds later in the night
    assert acknowledgement_of(commitment).next_attempt_at == datetime(2026, 3, 11, 12, 0, tzinfo=UTC)


def test_a_short_retry_is_followed_up_by_a_task_at_that_moment(mail_server, agent):
    # Given an empty queue and a mail server answering 451
    queue: redis.Redis = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    queue.delete("celery")
    mail_server.mode = "tempfail"
    commitment = make_commitment(actor=agent)
    acknowledgement = acknowledgement_of(commitment)

    # When the delivery task runs
    tasks.deliver_notifications.apply(args=([acknowledgement.pk],))

    # Then a delivery task for it waits in the broker for the retry time (sooner than the next sweep)
    [queued] = [json.loads(raw) for raw in queue.lrange("celery", 0, -1)]  # type: ignore[union-attr]
    queue.delete("celery")
    acknowledgement.refresh_from_db()
    assert queued["headers"]["task"] == "notifications.tasks.deliver_notifications"
    args, _kwargs, _embed = json.loads(base64.b64decode(queued["body"]))
    assert args == [[acknowledgement.pk]]
    assert datetime.fromisoformat(queued["headers"]["eta"]) == acknowledgement.next_attempt_at


# --- Failed ---------------------------------------------------------------------------------


def test_smtp_550_fails_the_message_shows_it_and_tells_the_owner(mail_server, agent):
    # Given a mail server that says Dana's mailbox does not exist
    mail_server.reject_recipients = {"dana@example.com"}
    commitment = make_commitment(actor=agent)

    # When delivery runs (twice: the failure, then the alert it causes)
    delivery.deliver_due()
    delivery.deliver_due()

    # Then the acknowledgement failed for good, with the server's words
    acknowledgement = acknowledgement_of(commitment)
    assert acknowledgement.status == DeliveryStatus.FAILED
    assert acknowledgement.attempts == 1
    assert "550" in acknowledgement.last_error
    # And the commitment's timeline says so
    entry = timeline_entry_for(acknowledgement)
    assert entry.data["status"] == "failed"
    assert "550" in entry.message
    # And Alex, the owner, got an alert by email saying what did not reach whom
    [alert] = alerts_about(commitment)
    assert (alert.audience, alert.channel, alert.recipient) == (Audience.STAFF, "email", agent.email)
    assert alert.status == DeliveryStatus.SENT
    [received] = mail_server.to(agent.email)
    assert received["Message-ID"] == alert.message_id
    assert "dana@example.com" in received.get_body(("plain",)).get_content()


def test_a_failed_alert_is_not_alerted_about(mail_server, agent):
    # Given a mail server that refuses both Dana and Alex, the owner
    mail_server.reject_recipients = {"dana@example.com", agent.email}
    commitment = make_commitment(actor=agent)

    # When delivery runs until nothing is due
    while delivery.deliver_due().claimed:
        pass

    # Then the alert failed too, and nothing more was made: no alert about an alert
    [alert] = alerts_about(commitment)
    assert alert.status == DeliveryStatus.FAILED
    assert timeline_entry_for(alert).data["status"] == "failed"
    assert commitment.notifications.count() == 2


def test_an_sms_webhook_4xx_fails_the_text_and_tells_the_owner(mail_server, sms_webhook, agent, texting_customer):
    # Given a gateway that answers 400 (it cannot text this number)
    sms_webhook.status = 400
    commitment = make_commitment(actor=agent, customer=texting_customer)

    delivery.deliver_due()
    delivery.deliver_due()

    acknowledgement = acknowledgement_of(commitment)
    assert acknowledgement.status == DeliveryStatus.FAILED
    assert "400" in acknowledgement.last_error
    assert timeline_entry_for(acknowledgement).data["status"] == "failed"
    assert len(mail_server.to(agent.email)) == 1
    assert sms_webhook.texts == []


def test_twilio_refusing_an_unsubscribed_number_fails_the_text(mail_server, twilio_api, agent, texting_customer):
    twilio_api.unsubscribed.add("+12025550123")
    commitment = make_commitment(actor=agent, customer=texting_customer)

    delivery.deliver_due()

    acknowledgement = acknowledgement_of(commitment)
    assert acknowledgement.status == DeliveryStatus.FAILED
    assert "21610" in acknowledgement.last_error
    assert len(alerts_about(commitment)) == 1


def test_a_phone_row_is_failed_with_a_clear_error_not_crashed_on(mail_server, agent):
    # Given a message somehow queued for the phone channel
    commitment = make_commitment(actor=agent)
    Notification.objects.filter(pk=acknowledgement_of(commitment).pk).update(channel="phone", recipient="+12025550123")

    # When delivery runs
    report = delivery.deliver_due()

    # Then it is failed, saying a person must call, and the owner is told
    assert report.failed == 1
    acknowledgement = acknowledgement_of(commitment)
    assert acknowledgement.status == DeliveryStatus.FAILED
    assert "not placed automatically" in acknowledgement.last_error
    assert len(alerts_about(commitment)) == 1


def test_a_text_queued_before_the_number_said_stop_goes_by_email_instead(
    mail_server, sms_webhook, agent, texting_customer
):
    # Given Dana, who prefers texts, texted STOP after a text to her was queued
    commitment = make_commitment(actor=agent, customer=texting_customer)
    commitment.customer.sms_opted_out = True
    commitment.customer.save()

    # When delivery runs
    delivery.deliver_due()

    # Then no text went out: the message reached her by email, and the timeline says why
    assert sms_webhook.texts == []
    acknowledgement = acknowledgement_of(commitment)
    assert (acknowledgement.status, acknowledgement.channel) == (DeliveryStatus.SENT, "email")
    [received] = mail_server.to("dana@example.com")
    assert received.get_body(("plain",)).get_content().splitlines() == acknowledgement.body.splitlines()
    assert commitment.events.filter(message__contains="texted STOP, so the acknowledgement goes by email").exists()


def test_a_text_queued_before_the_number_said_stop_is_not_sent_without_an_email(
    sms_webhook, agent, texting_customer, daytime_zone
):
    # Given a customer with no email address texted STOP after a text was queued
    commitment = make_commitment(
        actor=agent, customer=customer_details(email="", preferred_channel="sms", timezone=daytime_zone)
    )
    commitment.customer.sms_opted_out = True
    commitment.customer.save()

    delivery.deliver_due()

    acknowledgement = acknowledgement_of(commitment)
    assert acknowledgement.status == DeliveryStatus.SUPPRESSED
    assert "STOP" in timeline_entry_for(acknowledgement).message
    assert sms_webhook.texts == []


# --- Leases ---------------------------------------------------------------------------------


def lease_runs_out_on_the_database_clock() -> None:
    """Leases are on the database's clock, which time_machine does not move: move the leases back."""
    Notification.objects.filter(leased_until__isnull=False).update(
        leased_until=F("leased_until") - settings.FOLLOWTHROUGH_DELIVERY_LEASE - timedelta(seconds=1)
    )


def test_a_row_another_worker_holds_is_left_alone_until_its_lease_expires(mail_server, agent, time_machine):
    # Given another worker claimed the acknowledgement (and then went quiet)
    time_machine.move_to(timezone.now(), tick=False)
    commitment = make_commitment(actor=agent)
    [held] = delivery.claim()

    # When delivery runs while that lease holds, then it leaves the row alone
    assert delivery.deliver_due().claimed == 0
    assert mail_server.messages == []

    # When the lease has run out on the database's clock (the one every worker's lease is on),
    # then the row is taken over and sent, its two attempts counted
    assert held.leased_until is not None
    lease_runs_out_on_the_database_clock()
    assert delivery.deliver_due().sent == 1
    acknowledgement = acknowledgement_of(commitment)
    assert (acknowledgement.status, acknowledgement.attempts) == (DeliveryStatus.SENT, 2)
    assert len(mail_server.to("dana@example.com")) == 1


def test_a_worker_back_after_its_lease_ran_out_does_not_send_again(mail_server, agent, time_machine):
    # Given worker A claimed the acknowledgement, stalled past its lease, and worker B sent it
    time_machine.move_to(timezone.now(), tick=False)
    commitment = make_commitment(actor=agent)
    stale_batch = delivery.claim()
    lease_ends = stale_batch[0].lease_ends_here
    assert lease_ends is not None
    lease_runs_out_on_the_database_clock()
    time_machine.move_to(lease_ends + timedelta(seconds=1))
    delivery.deliver_due()

    # When worker A wakes up and goes on with its batch
    report = delivery.send_claimed(stale_batch)

    # Then it gives the row back unsent, and B's outcome stands
    assert report.released == 1
    acknowledgement = acknowledgement_of(commitment)
    assert (acknowledgement.status, acknowledgement.attempts) == (DeliveryStatus.SENT, 2)
    assert len(mail_server.to("dana@example.com")) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_at_the_same_instant_never_share_a_row_nor_wait_for_each_other(agent):
    # Given three messages due
    for number in range(3):
        make_commitment(actor=agent, customer=customer_details(name=f"C{number}", email=f"c{number}@example.com"))
    claims: dict[str, list[Notification]] = {}
    a_has_claimed, b_is_done = threading.Event(), threading.Event()
    b_took = []

    def worker_a() -> None:
        # Worker A claims two and is caught before its claim commits.
        try:
            with transaction.atomic():
                claims["a"] = delivery.claim(limit=2)
                a_has_claimed.set()
                b_is_done.wait(timeout=5)
        finally:
            connection.close()

    def worker_b() -> None:
        a_has_claimed.wait(timeout=5)
        started = time.monotonic()
        try:
            claims["b"] = delivery.claim(limit=2)
        finally:
            b_took.append(time.monotonic() - started)
            b_is_done.set()
            connection.close()

    # When worker B claims in that very instant
    threads = [threading.Thread(target=worker_a), threading.Thread(target=worker_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    # Then B skipped A's rows without waiting for A and took the one left
    a_rows, b_rows = {row.pk for row in claims["a"]}, {row.pk for row in claims["b"]}
    assert len(a_rows) == 2
    assert len(b_rows) == 1
    assert not a_rows & b_rows
    assert b_took[0] < 1


# --- The outbox in the admin ----------------------------------------------------------------


def test_an_operator_finds_a_failed_message_and_retries_it_now(mail_server, agent, admin_client):
    # Given the acknowledgement failed while Dana's mailbox was refused
    mail_server.reject_recipients = {"dana@example.com"}
    commitment = make_commitment(actor=agent)
    delivery.deliver_due()
    acknowledgement = acknowledgement_of(commitment)
    changelist = reverse("admin:notifications_notification_changelist")

    # When the operator lists failed messages, then it is there with its error
    page = admin_client.get(changelist, {"status__exact": "failed", "q": "dana@example.com"})
    assert page.status_code == 200
    assert "550" in page.content.decode()

    # When the mailbox is fixed and the operator retries it now
    mail_server.reject_recipients = set()
    response = admin_client.post(
        changelist, {"action": "retry_now", "_selected_action": [acknowledgement.pk]}, follow=True
    )
    assert "1 message(s) will be sent again now." in response.content.decode()
    delivery.deliver_due()

    # Then it arrives
    acknowledgement.refresh_from_db()
    assert acknowledgement.status == DeliveryStatus.SENT
    assert acknowledgement.attempts == 2
    assert len(mail_server.to("dana@example.com")) == 1


def test_the_outbox_admin_is_read_only(agent, admin_client):
    commitment = make_commitment(actor=agent)
    acknowledgement = acknowledgement_of(commitment)

    assert admin_client.get(reverse("admin:notifications_notification_add")).status_code == 403
    page = admin_client.get(reverse("admin:notifications_notification_change", args=[acknowledgement.pk]))
    assert page.status_code == 200
    assert 'name="recipient"' not in page.content.decode()
