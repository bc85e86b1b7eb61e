"""Honest promises: the time to promise is the owner's target plus a buffer learned from how their
targets held, the team's default without history; and how often an owner's promises held."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from commitments import promises, services
from commitments.models import Commitment
from tests.factories import customer_details, make_commitment

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def finish(commitment: Commitment, *, late_by: timedelta) -> None:
    """Fulfil a commitment ``late_by`` after its owner's target (negative: early)."""
    assert commitment.target_at is not None
    with time_machine.travel(commitment.target_at + late_by, tick=False):
        services.fulfil(actor=commitment.owner, commitment=commitment, resolution="Done.")


def history(agent, slips_in_hours: list[float]) -> None:
    """A made-up history: one finished commitment per slip, each with a target a day after logging."""
    for index, hours in enumerate(slips_in_hours):
        with time_machine.travel(START + timedelta(days=3 * index), tick=False):
            commitment = make_commitment(
                actor=agent,
                customer=customer_details(email=f"c{index}@example.com", phone=""),
                target_at=timezone.now() + timedelta(days=1),
                due_at=timezone.now() + timedelta(days=2),
            )
        finish(commitment, late_by=timedelta(hours=hours))


def test_without_history_the_teams_default_buffer_is_added_and_said(agent, team):
    team.default_promise_buffer = timedelta(hours=6)
    team.save()
    # A Monday afternoon: target and buffer end inside the team's working hours (a Friday's would
    # move the promise to Monday morning, rightly, and this test is not about that)
    now = START
    target = now + timedelta(days=1)

    proposal = promises.propose_promise(owner=agent, team=team, target_at=target, now=now)

    assert proposal.buffer == timedelta(hours=6)
    assert proposal.promised_at >= target + timedelta(hours=6)
    assert proposal.promised_at - (target + timedelta(hours=6)) < timedelta(minutes=15)  # a quarter hour, rounded up
    assert proposal.promised_at.minute % 15 == 0 and proposal.promised_at.second == 0
    assert "Not enough history for Alex Rivera yet (0 finished targets)" in proposal.explanation
    assert "the team's default buffer of 6 hours" in proposal.explanation


def test_the_buffer_covers_most_of_the_owners_past_slips(agent, team):
    # Given ten finished jobs: two early, three on time, five late by 1 to 8 hours
    history(agent, [-2, -1, 0, 0, 0, 1, 2, 3, 5, 8])
    now = START + timedelta(days=60)
    target = now + timedelta(days=1)

    proposal = promises.propose_promise(owner=agent, team=team, target_at=target, now=now)

    # Then the buffer is the slip 8 in 10 of them stayed within (3 hours), and the line says why
    assert proposal.history == 10
    assert proposal.buffer == timedelta(hours=3)
    assert proposal.promised_at == target + timedelta(hours=3)
    assert proposal.explanation == (
        "Alex Rivera finished 5 of the last 10 jobs after the target (median 30 minutes late): "
        "a buffer of 3 hours covers 80% of them."
    )


def test_an_owner_who_always_makes_their_target_is_promised_the_target(agent, team):
    history(agent, [-3, -1, 0, -0.5])
    now = START + timedelta(days=60)
    target = now + timedelta(hours=5)

    proposal = promises.propose_promise(owner=agent, team=team, target_at=target, now=now)

    assert proposal.buffer == timedelta(0)
    assert proposal.promised_at == target
    assert "finished all of the last 4 jobs by the target" in proposal.explanation


def test_the_buffer_is_learned_from_made_up_slips_alone():
    assert promises.buffer_from_history([timedelta(hours=h) for h in (1, 2, 3, 4, 10)]) == timedelta(hours=4)
    assert promises.buffer_from_history([timedelta(hours=-5)] * 3) == timedelta(0)
    assert promises.buffer_from_history([timedelta(hours=h) for h in (0, 0, 0, 0, 24)]) == timedelta(0)


def test_logging_with_only_a_target_promises_the_proposed_time(agent, team):
    history(agent, [1, 2, 2, 3, 4])
    with time_machine.travel(START + timedelta(days=60), tick=False):
        target = timezone.now() + timedelta(days=1)
        expected = promises.propose_promise(owner=agent, team=None, target_at=target, now=timezone.now())

        commitment = make_commitment(
            actor=agent, customer=customer_details(email="new@example.com"), due_at=None, target_at=target
        )

    # Both are kept: the owner's target and the time promised to the customer
    assert commitment.target_at == target
    assert commitment.due_at == expected.promised_at == target + timedelta(hours=3)
