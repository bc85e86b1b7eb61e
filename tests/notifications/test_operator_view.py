"""What operators read: /healthz, /readyz, /metrics (protected), the Delivery page, JSON logs."""

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications import delivery, engine_health
from notifications.models import DeliveryStatus, MessageKind, Notification, SweepTick
from tests import live
from tests.factories import make_commitment

pytestmark = pytest.mark.django_db


def beat_ticked(ago: timedelta = timedelta(0), swept: int = 3) -> None:
    engine_health.record_sweep(duration=timedelta(seconds=0.25), swept=swept)
    SweepTick.objects.update(finished_at=timezone.now() - ago, started_at=timezone.now() - ago)


def metric(text: str, name: str) -> float:
    [line] = [line for line in text.splitlines() if line.startswith(name + " ") or line.startswith(name + "{")]
    return float(line.rsplit(" ", 1)[1])


def test_healthz_says_the_process_answers(client):
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_is_ready_when_beat_ticks_and_nothing_waits(client):
    beat_ticked()

    response = client.get("/readyz")

    assert response.status_code == 200
    checks = response.json()["checks"]
    assert {name: check["ok"] for name, check in checks.items()} == {
        "database": True,
        "broker": True,
        "beat": True,
        "delivery": True,
    }


def test_readyz_says_beat_has_stopped_ticking(client, settings):
    settings.FOLLOWTHROUGH_SWEEP_INTERVAL = timedelta(seconds=60)
    beat_ticked(ago=timedelta(minutes=5))

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["beat"] == {"ok": False, "last_tick_age_seconds": pytest.approx(300, abs=5)}


def test_readyz_and_metrics_say_mail_is_stuck_once_a_message_waits_longer_than_a_sweep(
    client, agent, settings, time_machine
):
    # Given mail is down: the acknowledgement was tried and waits for another try
    settings.FOLLOWTHROUGH_SWEEP_INTERVAL = timedelta(seconds=60)
    settings.METRICS_TOKEN = "scrape-me"
    beat_ticked()
    commitment = make_commitment(actor=agent)
    Notification.objects.filter(commitment=commitment).update(attempts=1, last_error="SMTP 421 Service not available")

    # When less than one sweep interval has passed, then all is still well
    time_machine.move_to(timezone.now() + timedelta(seconds=30))
    assert client.get("/readyz").json()["checks"]["delivery"]["ok"] is True

    # When more than one sweep interval has passed, then /readyz and /metrics both say it is stuck
    time_machine.move_to(timezone.now() + timedelta(seconds=31))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["delivery"]["ok"] is False
    assert response.json()["checks"]["delivery"]["oldest_due_age_seconds"] > 60
    scraped = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me").content.decode()
    assert metric(scraped, "followthrough_delivery_stuck") == 1
    assert metric(scraped, "followthrough_oldest_due_message_age_seconds") > 60
    assert 'followthrough_messages_retrying{channel="email"} 1.0' in scraped


def test_metrics_are_not_for_the_public(client, settings, agent):
    settings.METRICS_TOKEN = "scrape-me"

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer guess").status_code == 401
    client.force_login(agent)  # an agent, not staff
    assert client.get("/metrics").status_code == 401


def test_metrics_show_the_engine_to_prometheus(client, settings, mail_server, agent):
    # Given one message sent and a sweep that handled three commitments
    settings.METRICS_TOKEN = "scrape-me"
    make_commitment(actor=agent)
    delivery.deliver_due()
    beat_ticked(swept=3)

    scraped = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me")

    assert scraped.status_code == 200
    text = scraped.content.decode()
    assert 'followthrough_messages_sent_total{channel="email"} 1.0' in text
    assert 'followthrough_messages_pending{channel="email"} 0.0' in text
    assert metric(text, "followthrough_sweep_commitments_swept") == 3
    assert metric(text, "followthrough_sweep_duration_seconds") == 0.25
    assert metric(text, "followthrough_beat_ticking") == 1
    assert "process_resident_memory_bytes" in text


def test_a_staff_member_may_read_metrics_without_a_token(admin_client):
    assert admin_client.get("/metrics").status_code == 200


def test_the_delivery_page_shows_the_backlog_failures_and_retries_them(admin_client, mail_server, agent):
    # Given a message the mail server refused for good, and beat that stopped
    mail_server.reject_recipients = {"dana@example.com"}
    commitment = make_commitment(actor=agent)
    delivery.deliver_due()
    failed = Notification.objects.get(commitment=commitment, kind=MessageKind.ACKNOWLEDGEMENT)
    assert failed.status == DeliveryStatus.FAILED

    # When an operator follows the admin's link to the Delivery page
    assert reverse("operator-delivery") in admin_client.get(reverse("admin:index")).content.decode()
    page = admin_client.get(reverse("operator-delivery"))

    # Then they see beat is not ticking, the backlog by channel, and the failure with its reason
    html = page.content.decode()
    assert page.status_code == 200
    assert "Not ticking." in html
    assert "550 5.1.1 No such mailbox here" in html
    assert "Retry the selected messages now" in html

    # When they retry it now, with the mailbox fixed
    mail_server.reject_recipients = set()
    response = admin_client.post(reverse("operator-delivery"), {"notification": [failed.pk]}, follow=True)

    # Then it is back in line and goes out
    assert "1 message(s) will be sent again now." in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.PENDING
    delivery.deliver_due()
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.SENT


def test_the_delivery_page_is_for_staff_only(client, agent):
    client.force_login(agent)
    response = client.get(reverse("operator-delivery"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db(transaction=True)
def test_json_logs_name_the_commitment_and_the_message_and_keep_secrets_out(agent):
    # Given a promise logged, and a process configured with LOG_FORMAT=json and a mail password
    commitment = make_commitment(actor=agent)
    acknowledgement = Notification.objects.get(commitment=commitment, kind=MessageKind.ACKNOWLEDGEMENT)

    # When that process delivers it (to a mail server that is not there)
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", "from notifications import delivery; delivery.deliver_due()"],
        cwd=live.ROOT,
        env=live.process_env(
            LOG_FORMAT="json", EMAIL_URL=f"smtp://mailer:hunter2secret@127.0.0.1:{live.free_port()}", LOG_LEVEL="INFO"
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )

    # Then every log line is a JSON object, the delivery's lines name the commitment and the message,
    # and the password appears nowhere
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    about_it = [line for line in lines if line.get("notification_id") == acknowledgement.pk]
    assert about_it, result.stderr
    assert all(line["commitment_id"] == commitment.pk for line in about_it)
    assert {"time", "level", "logger", "message"} <= set(about_it[0])
    assert "hunter2secret" not in result.stderr + result.stdout


def test_check_ready_command_fails_when_beat_has_not_ticked(db):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="not ready"):
        call_command("check_ready", "--only", "beat")
    beat_ticked()
    call_command("check_ready", "--only", "beat")
