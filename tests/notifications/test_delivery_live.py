"""Delivery guarantees that are about processes: real Celery workers (and beat) on PostgreSQL and Redis.

Each test starts the app's own processes, pointed at the test database, a real SMTP server and a
local SMS webhook, with a 3 s delivery lease and a 1 s sweep so that it runs in seconds.
"""

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import transaction

from notifications import tasks
from notifications.models import DeliveryStatus, MessageKind, Notification
from tests import live
from tests.factories import customer_details, make_commitment

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 3


def engine_env(mail_server, sms_webhook=None, **extra: str) -> dict[str, str]:
    env = {
        "EMAIL_URL": mail_server.url,
        "FOLLOWTHROUGH_DELIVERY_LEASE": f"{LEASE_SECONDS}s",
        "FOLLOWTHROUGH_SWEEP_INTERVAL": "1s",
    }
    if sms_webhook is not None:
        env.update({"SMS_BACKEND": "webhook", "SMS_WEBHOOK_URL": sms_webhook.url, "SMS_TIMEOUT": "1"})
    env.update(extra)
    return env


@contextmanager
def workers(tmp_path: Path, *names: str, env: dict[str, str]) -> Iterator[list[subprocess.Popen]]:
    """Start several workers at once (not one after another) and wait until every one is ready."""
    with ExitStack() as stack:
        processes = []
        for name in names:
            args = [live.CELERY, "-A", "followthrough", "worker", "-n", f"{name}@%h", "--concurrency", "2"]
            args += ["-l", "INFO", "--without-mingle", "--without-gossip"]
            processes.append(stack.enter_context(live.running(args, env=live.process_env(**env), log=tmp_path / name)))
        for name in names:
            live.wait_for(lambda name=name: "ready." in (tmp_path / name).read_text(), message=f"{name} ready")
        yield processes


def all_delivered() -> bool:
    return not Notification.objects.filter(status=DeliveryStatus.PENDING).exists()


def test_two_workers_delivering_the_same_rows_at_once_send_each_message_exactly_once(
    tmp_path, mail_server, sms_webhook, agent, daytime_zone
):
    # Given two workers running side by side, and a mail server and gateway a little slow to answer
    live.purge_broker()
    mail_server.delay = sms_webhook.delay = 0.02
    with workers(tmp_path, "one", "two", env=engine_env(mail_server, sms_webhook)):
        # When twelve promises to email customers and twelve to texting ones are logged at once,
        # and on top of the task each one enqueues, four tasks each try to deliver all of them
        with transaction.atomic():
            for number in range(12):
                make_commitment(
                    actor=agent, customer=customer_details(name=f"Mail {number}", email=f"m{number}@example.com")
                )
                make_commitment(
                    actor=agent,
                    customer=customer_details(
                        name=f"Text {number}",
                        email=f"t{number}@example.com",
                        phone=f"+120255501{number + 10}",
                        preferred_channel="sms",
                        timezone=daytime_zone,
                    ),
                )
        everything = list(Notification.objects.values_list("pk", flat=True))
        for _ in range(4):
            tasks.deliver_notifications.delay(everything)
        live.wait_for(all_delivered, timeout=30, message="every message delivered")
        time.sleep(1)  # Time enough for a duplicate to land, were there one.

    # Then every customer got exactly one message, on their channel, and nothing was tried twice
    assert Counter(str(message["To"]) for message in mail_server.messages) == {
        f"m{number}@example.com": 1 for number in range(12)
    }
    assert Counter(text["to"] for text in sms_webhook.texts) == {f"+120255501{number + 10}": 1 for number in range(12)}
    rows = Notification.objects.all()
    assert {(row.status, row.attempts) for row in rows} == {(DeliveryStatus.SENT, 1)}
    # And both workers took part
    for name in ("one", "two"):
        assert "notifications.tasks.deliver_notifications" in (tmp_path / name).read_text()


def test_a_worker_killed_mid_send_is_taken_over_after_its_lease_and_each_message_arrives_once(
    tmp_path, mail_server, sms_webhook, agent, daytime_zone
):
    # Given a worker whose sends hang: the mail server and the gateway stall on the first message each
    live.purge_broker()
    mail_server.stall_next = sms_webhook.stall_next = 1
    env = engine_env(mail_server, sms_webhook)
    with workers(tmp_path, "doomed", env=env) as [doomed]:
        by_mail = make_commitment(actor=agent)
        by_text = make_commitment(
            actor=agent,
            customer=customer_details(
                name="Riley",
                email="riley@example.com",
                phone="+12025550150",
                preferred_channel="sms",
                timezone=daytime_zone,
            ),
        )
        live.wait_for(lambda: mail_server.stalled and sms_webhook.stalled, timeout=20, message="both sends stalled")

        # When the worker is killed in the middle of both sends
        live.kill_hard(doomed)

    # Then both messages are still pending, leased by the dead worker
    dead_leases: dict[int, datetime] = {}
    for commitment in (by_mail, by_text):
        row = commitment.notifications.get(kind=MessageKind.ACKNOWLEDGEMENT)
        assert (row.status, row.attempts, row.sent_at) == (DeliveryStatus.PENDING, 1, None)
        assert row.leased_until is not None
        dead_leases[row.pk] = row.leased_until

    # When another worker runs with beat's sweep
    with workers(tmp_path, "rescuer", env=env), live.celery_beat(tmp_path, **env):
        live.wait_for(all_delivered, timeout=20, message="the rescuer to deliver both")

    # Then, once the dead worker's lease ran out, it sent both, and each arrived once
    assert len(mail_server.to("dana@example.com")) == 1
    assert len(sms_webhook.to("+12025550150")) == 1
    for commitment in (by_mail, by_text):
        row = commitment.notifications.get(kind=MessageKind.ACKNOWLEDGEMENT)
        assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)
        assert row.sent_at is not None
        assert row.sent_at >= dead_leases[row.pk]


def test_a_message_whose_enqueue_was_lost_is_still_delivered_by_the_periodic_sweep(mail_server, agent):
    # Given the web process logged a promise while Redis was unreachable from it
    live.purge_broker()
    script = (
        "from accounts.models import User; from tests.factories import make_commitment; "
        "print(make_commitment(actor=User.objects.get(username='alex')).pk)"
    )
    saved = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=live.ROOT,
        env=live.process_env(CELERY_BROKER_URL="redis://127.0.0.1:1/0", EMAIL_URL=mail_server.url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert saved.returncode == 0, saved.stderr
    acknowledgement = Notification.objects.get(
        commitment_id=int(saved.stdout.split()[-1]), kind=MessageKind.ACKNOWLEDGEMENT
    )

    # So no delivery task exists for it: the queue is empty and the message waits in the outbox
    assert redis.Redis.from_url(settings.CELERY_BROKER_URL).llen("celery") == 0
    assert acknowledgement.status == DeliveryStatus.PENDING

    # When beat's periodic sweep task runs
    tasks.sweep.apply()

    # Then Dana has the acknowledgement, once
    acknowledgement.refresh_from_db()
    assert acknowledgement.status == DeliveryStatus.SENT
    assert len(mail_server.to("dana@example.com")) == 1
