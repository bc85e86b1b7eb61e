"""A send ends inside its lease; leases are on the database's clock; settings are checked at start;
a text through Twilio names its idempotency key."""

import asyncio
import subprocess
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from django.core.checks import run_checks
from django.db import connection

from notifications import clock, delivery
from notifications.models import DeliveryStatus, MessageKind, Notification
from tests import live
from tests.factories import customer_details, make_commitment
from tests.live import free_port


class SlowAtEveryStep:
    """A mail server that answers each step after ``pause`` seconds: no one step is slow enough to
    trip a socket timeout, all of them together outlast the lease."""

    def __init__(self, pause: float) -> None:
        self.pause = pause
        self.accepted = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        await asyncio.sleep(self.pause)
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        await asyncio.sleep(self.pause)
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await asyncio.sleep(self.pause)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.pause)
        self.accepted += 1
        return "250 Message accepted for delivery"


@pytest.fixture
def slow_mail_server(settings):
    handler = SlowAtEveryStep(pause=1.2)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    yield handler
    controller.stop()


def test_a_send_slower_than_its_lease_is_cut_inside_the_lease_and_retried(slow_mail_server, agent, settings):
    # Given a 4 s lease and a mail server taking 1.2 s over each of EHLO, MAIL, RCPT and DATA:
    # each step is well within EMAIL_TIMEOUT (3 s), all four together (4.8 s) are not within the lease
    settings.FOLLOWTHROUGH_DELIVERY_LEASE = timedelta(seconds=4)
    settings.EMAIL_TIMEOUT = 3
    commitment = make_commitment(actor=agent)

    # When delivery sends the acknowledgement
    started = time.monotonic()
    report = delivery.deliver_due()
    took = time.monotonic() - started

    # Then the send was given up before the lease ran out, so no other worker could be sending it too,
    # and the message waits for another try, saying why
    assert took < 4
    assert (report.sent, report.retrying) == (0, 1)
    acknowledgement = commitment.notifications.get(kind=MessageKind.ACKNOWLEDGEMENT)
    assert acknowledgement.status == DeliveryStatus.PENDING
    assert acknowledgement.leased_until is None
    assert "ran out of its time inside the delivery lease" in acknowledgement.last_error


def test_a_lease_is_taken_on_the_database_clock(mail_server, agent, settings, time_machine):
    # Given a worker whose clock runs an hour fast
    time_machine.move_to(clock.database_now() + timedelta(hours=1), tick=False)
    make_commitment(actor=agent)

    # When it claims the acknowledgement
    [claimed] = delivery.claim()

    # Then the lease runs from the database's now, not the worker's: a worker with a correct clock
    # sees it held for the whole lease
    assert claimed.leased_until is not None
    lease_left = claimed.leased_until - clock.database_now()
    assert timedelta(0) < lease_left <= settings.FOLLOWTHROUGH_DELIVERY_LEASE
    # And a worker whose clock runs fast does not take over a lease that is still running
    assert delivery.claim() == []


def test_a_lease_shorter_than_twice_the_longest_send_timeout_stops_the_start(settings):
    settings.FOLLOWTHROUGH_DELIVERY_LEASE = timedelta(seconds=30)
    settings.EMAIL_TIMEOUT, settings.SMS_TIMEOUT = 20, 10

    [error] = run_checks(tags=["delivery"])

    assert error.id == "followthrough.E001"
    assert "FOLLOWTHROUGH_DELIVERY_LEASE (30s)" in error.msg
    assert error.hint == "Set FOLLOWTHROUGH_DELIVERY_LEASE to 40s or more, or lower the timeouts."

    settings.FOLLOWTHROUGH_DELIVERY_LEASE = timedelta(seconds=40)
    assert run_checks(tags=["delivery"]) == []


def test_a_text_through_twilio_names_its_idempotency_key_in_its_status_callback(twilio_api, agent, daytime_zone):
    commitment = make_commitment(actor=agent, customer=customer_details(preferred_channel="sms", timezone=daytime_zone))

    delivery.deliver_due()

    acknowledgement = Notification.objects.get(commitment=commitment, kind=MessageKind.ACKNOWLEDGEMENT)
    [text] = twilio_api.to("+12025550123")
    callback = urlsplit(text["status_callback"])
    assert callback.path == "/hooks/sms/twilio/status/"
    assert parse_qs(callback.query) == {"key": [acknowledgement.idempotency_key]}


def test_the_database_clock_is_the_servers(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        (server_now,) = cursor.fetchone()
    assert abs(clock.database_now() - server_now) < timedelta(seconds=5)


@pytest.mark.live
def test_a_worker_with_a_lease_too_short_for_its_timeouts_refuses_to_start(db):
    # Given settings where one send could take 20 s but the lease is 10 s
    env = live.process_env(FOLLOWTHROUGH_DELIVERY_LEASE="10s", EMAIL_TIMEOUT="20")

    # When a worker starts, then it stops at once and says why
    worker = subprocess.run(
        [live.CELERY, "-A", "followthrough", "worker", "-n", "refused@%h", "--concurrency", "1", "--without-mingle"],
        cwd=live.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert worker.returncode == 1
    assert "followthrough.E001: FOLLOWTHROUGH_DELIVERY_LEASE (10s) is shorter than twice" in worker.stderr
