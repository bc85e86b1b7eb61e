"""The whole engine as an operator runs it: two beats and two workers, every duration in seconds.

Two beats tick the sweeps (by mistake, as can happen) and two workers run them and deliver, as
separate processes against the test's PostgreSQL, Redis and a real SMTP server. One promise, due
12 seconds after it is logged, goes through its whole life: acknowledgement, status updates,
both warnings, missed, apology, escalation and a reminder. Each message reaches the SMTP server
exactly once, on time, and agrees with the outbox.
"""

from collections import Counter
from contextlib import ExitStack
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from notifications.models import Audience, DeliveryStatus, MessageKind, Notification
from tests import live
from tests.factories import make_commitment

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SWEEP = 2  # seconds between two ticks of each beat
ENGINE = {
    "FOLLOWTHROUGH_SWEEP_INTERVAL": f"{SWEEP}s",
    "FOLLOWTHROUGH_UPDATE_INTERVAL": "6s",
    "FOLLOWTHROUGH_ESCALATE_BEFORE": "8s,4s",
    "FOLLOWTHROUGH_DELIVERY_LEASE": "10s",
}


def start_all(
    stack: ExitStack, tmp_path, *, env: dict[str, str], workers: list[str], beats: list[str], wait: bool = True
) -> None:
    """Start every process at once, then (unless told not to) wait until each one is ready."""
    for name in workers:
        args = [live.CELERY, "-A", "followthrough", "worker", "-n", f"{name}@%h", "--concurrency", "2", "-l", "INFO"]
        args += ["--without-mingle", "--without-gossip"]
        stack.enter_context(live.running(args, env=live.process_env(**env), log=tmp_path / f"{name}.log"))
    for name in beats:
        args = [live.CELERY, "-A", "followthrough", "beat", "-l", "INFO", "--schedule", str(tmp_path / f"{name}.db")]
        stack.enter_context(live.running(args, env=live.process_env(**env), log=tmp_path / f"{name}.log"))
    if wait:
        wait_until_ready(tmp_path, workers, "ready.")
        wait_until_ready(tmp_path, beats, "beat: Starting")


def wait_until_ready(tmp_path, names: list[str], ready: str) -> None:
    for name in names:
        live.wait_for(
            lambda name=name: ready in (tmp_path / f"{name}.log").read_text(errors="replace"),
            timeout=60,
            message=f"{name} to start",
        )


def sent(kind: str, recipient: str = "") -> list[Notification]:
    rows = Notification.objects.filter(kind=kind, status=DeliveryStatus.SENT)
    return list(rows.filter(recipient=recipient) if recipient else rows)


def when(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment


def nothing_left_to_send() -> bool:
    return not Notification.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now()).exists()


def test_two_beats_and_two_workers_send_every_message_once_and_on_time(tmp_path, settings, mail_server, agent, lead):
    # Given the engine's durations in seconds, here and in the processes
    settings.FOLLOWTHROUGH_UPDATE_INTERVAL = timedelta(seconds=6)
    settings.FOLLOWTHROUGH_ESCALATE_BEFORE = [timedelta(seconds=8), timedelta(seconds=4)]
    live.purge_broker()
    env = {**ENGINE, "EMAIL_URL": mail_server.url}

    with ExitStack() as workers, ExitStack() as beats:
        start_all(workers, tmp_path, env=env, workers=["worker1", "worker2"], beats=[], wait=False)
        start_all(beats, tmp_path, env=env, workers=[], beats=["beat1", "beat2"])
        wait_until_ready(tmp_path, ["worker1", "worker2"], "ready.")

        # When an agent logs a promise to Dana, due in 12 seconds
        logged_at = timezone.now()
        commitment = make_commitment(actor=agent, due_at=logged_at + timedelta(seconds=12))

        # and its life runs until owner and lead have had their first reminder that it is missed
        live.wait_for(
            lambda: len(sent(MessageKind.ESCALATION, lead.email)) >= 3,
            timeout=40,
            message="the lead's last warning, missed escalation and first reminder",
        )

        # (then the beats stop, the workers finish what is due, and they stop)
        beats.close()
        live.wait_for(nothing_left_to_send, timeout=20, message="the workers to deliver what was due")

    commitment.refresh_from_db()
    received = list(mail_server.messages)
    by_id = Counter(str(message["Message-ID"]) for message in received)

    # Then nothing reached the SMTP server twice
    assert [message_id for message_id, count in by_id.items() if count > 1] == []
    # and the server received exactly the messages the outbox says were sent, each once
    delivered = Notification.objects.filter(status=DeliveryStatus.SENT)
    assert sorted(by_id) == sorted(row.message_id for row in delivered)
    assert not Notification.objects.filter(status=DeliveryStatus.FAILED).exists()

    # and Dana got her acknowledgement at once, status updates, and an apology soon after the due time
    dana = "dana@example.com"
    [acknowledgement] = sent(MessageKind.ACKNOWLEDGEMENT, dana)
    assert when(acknowledgement.sent_at) - logged_at < timedelta(seconds=SWEEP + 4)
    assert len(sent(MessageKind.STATUS_UPDATE, dana)) >= 1
    [apology] = sent(MessageKind.APOLOGY, dana)
    assert commitment.status == "missed"
    assert when(commitment.missed_at) - commitment.due_at <= timedelta(seconds=SWEEP + 2)
    assert when(apology.sent_at) - commitment.due_at <= timedelta(seconds=SWEEP + 5)
    assert all(commitment.status_url in message.get_body(("plain",)).get_content() for message in mail_server.to(dana))

    # and the owner had one warning per step, on time; the lead the last step; both the missed
    # escalation and at least one reminder
    def escalations(to: str, step: str) -> list[Notification]:
        return [row for row in sent(MessageKind.ESCALATION, to) if f":escalation:{step}" in row.idempotency_key]

    for person, steps in ((agent.email, ["step1", "step2"]), (lead.email, ["step2"])):
        assert [len(escalations(person, step)) for step in ("step1", "step2")] == [
            int(step in steps) for step in ("step1", "step2")
        ]
        assert len(escalations(person, "missed")) == 1
        assert len(escalations(person, "reminder")) >= 1
    for step, before in (("step1", 8), ("step2", 4)):
        [warning] = escalations(agent.email, step)
        late = when(warning.sent_at) - (commitment.due_at - timedelta(seconds=before))
        assert timedelta(0) <= late <= timedelta(seconds=SWEEP + 4), (step, late)
    staff_rows = Notification.objects.filter(audience=Audience.STAFF, status=DeliveryStatus.SENT)
    assert {row.recipient for row in staff_rows} == {agent.email, lead.email}
