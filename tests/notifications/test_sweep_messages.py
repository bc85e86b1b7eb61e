"""What one status update sweep writes, to the byte: the words each customer and owner receive, the
keys that keep a message from being made twice, and the timeline's lines.

The sweep writes thousands of these a second through cached frames and hand-written ``COPY`` lines;
these tests pin their output so that making it faster can never change a word of it.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings

from commitments.models import Commitment, TimelineEvent
from notifications import sweeps
from notifications.models import Notification
from tests.factories import customer_details, make_commitment

pytestmark = pytest.mark.django_db

# Tuesday 24 November 2026, 15:00 UTC (10:00 in New York).
START = datetime(2026, 11, 24, 15, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def swept_a_day_later(clock, commitment: Commitment) -> tuple[list[Notification], TimelineEvent]:
    swept_at = START + timedelta(days=1)
    clock.move_to(swept_at)
    assert sweeps.run_sweeps()["status_updates"] == 1
    rows = list(Notification.objects.filter(commitment=commitment, created_at=swept_at))
    [event] = TimelineEvent.objects.filter(commitment=commitment, kind=TimelineEvent.Kind.UPDATE_SENT)
    return sorted(rows, key=lambda row: row.idempotency_key), event


def test_an_automatic_update_by_email_reads_exactly_so(clock, agent):
    # Given a promise to a customer who reads email in New York
    commitment = make_commitment(actor=agent, due_at=START + timedelta(days=3))
    url = commitment.status_url

    # When the sweep makes her automatic update a day later
    [email], event = swept_a_day_later(clock, commitment)

    # Then she reads, to the byte:
    assert email.channel == "email" and email.recipient == "dana@example.com" and email.status == "pending"
    assert email.subject == "Update: Send the repair estimate"
    assert email.body == (
        "Hi Dana,\n\n"
        "Alex Rivera is working on it: Send the repair estimate.\n\n"
        "Nothing has changed since our last update on Tuesday 24 November at 10:00 AM EST, "
        "and it is still due by Friday 27 November at 10:00 AM EST.\n\n"
        "Next update: by Thursday 26 November at 10:00 AM EST, sooner when there is news.\n\n"
        f"See where it stands at any time: {url}\n\n"
        "Alex Rivera\nHome Repairs"
    )
    assert email.layout == {
        "form": "customer",
        "body": [10, 289],
        "words": {
            "first_name": "Dana",
            "summary": "Send the repair estimate",
            "owner_name": "Alex Rivera",
            "team_name": "Home Repairs",
            "status_url": url,
            "due": "Friday 27 November at 10:00 AM EST",
            "next_contact": "Thursday 26 November at 10:00 AM EST",
        },
        "language": "en",
    }
    key = f"{commitment.pk}:status_update:auto:20261125T150000000000Z"
    assert email.idempotency_key == key
    # and the timeline says so, in the same words as ever
    assert event.message == "Automatic status update: nothing new since the last message to the customer."
    assert event.actor_label == "system" and event.actor_id is None
    assert event.data == {
        "automatic": True,
        "since": "2026-11-24T15:00:00+00:00",
        "channel": "email",
        "kind": "status_update",
        "idempotency_key": key,
    }


def test_an_automatic_update_by_text_in_spanish_reads_exactly_so(clock, agent):
    # Given a promise to a customer who reads texts in Spanish, in Madrid
    details = customer_details(preferred_channel="sms", timezone="Europe/Madrid", language="es")
    commitment = make_commitment(actor=agent, customer=details, due_at=START + timedelta(days=3))
    url = commitment.status_url

    # When the sweep makes her automatic update a day later (16:00 in Madrid: no quiet hours)
    [text], event = swept_a_day_later(clock, commitment)

    # Then her text reads, to the byte:
    assert text.channel == "sms" and text.recipient == "+12025550123" and text.subject == ""
    assert text.body == (
        "Send the repair estimate: sin cambios desde el mar 24 nov 16:00 CET, sigue prometido para el "
        f"vie 27 nov 16:00 CET. Novedades antes del jue 26 nov 16:00 CET. Estado: {url}"
    )
    assert text.layout == {}
    assert text.idempotency_key == f"{commitment.pk}:status_update:auto:20261125T150000000000Z"
    assert event.data["channel"] == "sms" and event.data["idempotency_key"] == text.idempotency_key


def test_a_customer_who_prefers_calls_gets_a_call_task_that_reads_exactly_so(clock, agent):
    # Given a promise to a customer who prefers a call
    commitment = make_commitment(
        actor=agent, customer=customer_details(preferred_channel="phone"), due_at=START + timedelta(days=3)
    )

    # When the sweep's automatic update comes a day later (when the acknowledgement's call, not
    # logged yet, also goes to the owner)
    [escalation, task], event = swept_a_day_later(clock, commitment)

    # Then the owner's call task reads, to the byte:
    assert task.kind == "call_task" and task.customer_kind == "status_update"
    assert task.recipient == agent.email and task.recipient_user_id == agent.pk
    page = f"{settings.SITE_URL}/commitments/{commitment.pk}/"
    assert task.subject == "Call Dana Whitfield: give a status update (Send the repair estimate)"
    assert task.body == (
        "Dana Whitfield wants to hear from us by phone, so this message reaches them through you.\n\n"
        "Call +1 202-555-0123 now (their time: Wed 25 Nov 10:00 AM EST).\n\n"
        "What to say:\n\n"
        "Alex Rivera is working on it: Send the repair estimate.\n\n"
        "Nothing has changed since our last update on Tuesday 24 November at 10:00 AM EST, "
        "and it is still due by Friday 27 November at 10:00 AM EST.\n\n"
        "Next update: by Thursday 26 November at 10:00 AM EST, sooner when there is news.\n\n"
        f"Give them their status link: {commitment.status_url}\n\n"
        "When you have called, log the call on the commitment page. A call not logged by "
        "Thursday 26 November at 10:00 AM EST is escalated to the team lead.\n\n"
        f"Open the commitment: {page}\n\n"
        "Followthrough, Home Repairs"
    )
    assert task.idempotency_key == f"{commitment.pk}:status_update:auto:20261125T150000000000Z:call_task"
    assert task.escalate_at is not None
    assert event.data["channel"] == "email" and event.data["kind"] == "call_task"
    # and the owner is told of the acknowledgement's call still not made, to the byte:
    assert escalation.kind == "escalation" and escalation.recipient == agent.email
    assert escalation.subject == "Call not made: Dana Whitfield (Send the repair estimate)"
    assert escalation.body == (
        "You had a call to make to Dana Whitfield on +1 202-555-0123, set at Tuesday 24 November at "
        "10:00 AM EST, and it is still not logged.\n\n"
        "What to tell them: confirm our promise about Send the repair estimate.\n\n"
        "Call now, then log the call on the commitment page.\n\n"
        f"Open the commitment: {page}\n\n"
        "Followthrough, Home Repairs"
    )
    [acknowledgement_task] = Notification.objects.filter(commitment=commitment, customer_kind="acknowledgement")
    assert escalation.idempotency_key == f"{commitment.pk}:escalation:call_task:{acknowledgement_task.pk}:u{agent.pk}"
