"""A backlog of due commitments (beat was down, a big import) is swept by every free worker at once."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import redis
import time_machine
from django.conf import settings

from notifications import sweeps, tasks
from notifications.models import MessageKind, Notification
from tests.factories import customer_details, make_commitment

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 24, 15, tzinfo=UTC)


def queued_tasks() -> list[str]:
    queue: redis.Redis = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    found = [json.loads(raw)["headers"]["task"] for raw in queue.lrange("celery", 0, -1)]  # type: ignore[union-attr]
    queue.delete("celery")
    return found


def promises_due_for_an_update(agent, count: int) -> None:
    with time_machine.travel(START, tick=False):
        for index in range(count):
            make_commitment(
                actor=agent,
                customer=customer_details(name=f"Customer {index}", email=f"c{index}@example.com", phone=""),
                due_at=START + timedelta(days=3),
            )


def test_a_sweep_that_finds_more_than_one_batch_asks_another_worker_to_sweep_alongside(agent, monkeypatch):
    # Given five promises whose update is due, and batches of two
    monkeypatch.setattr(sweeps, "BATCH_SIZE", 2)
    promises_due_for_an_update(agent, 5)
    queued_tasks()

    # When a worker sweeps a day later
    with time_machine.travel(START + timedelta(days=1), tick=False):
        tasks.sweep_backlog.apply()

        # Then every customer got their update, and one helper sweep was asked for (not one per batch)
        assert Notification.objects.filter(kind=MessageKind.STATUS_UPDATE).count() == 5
        assert queued_tasks() == ["notifications.tasks.sweep_backlog"]

        # and the helper, arriving after the work is done, finds nothing and asks for nobody
        assert tasks.sweep_backlog.apply().successful()
        assert Notification.objects.filter(kind=MessageKind.STATUS_UPDATE).count() == 5
        assert queued_tasks() == []


def test_no_helper_is_asked_for_when_one_batch_holds_everything_due(agent, monkeypatch):
    monkeypatch.setattr(sweeps, "BATCH_SIZE", 10)
    promises_due_for_an_update(agent, 5)
    queued_tasks()

    with time_machine.travel(START + timedelta(days=1), tick=False):
        tasks.sweep_backlog.apply()

    assert Notification.objects.filter(kind=MessageKind.STATUS_UPDATE).count() == 5
    assert queued_tasks() == []
