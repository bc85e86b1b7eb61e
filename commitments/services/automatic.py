"""The changes time makes to a commitment, batch by batch: missed, the warning ladder, the update clock.

The sweeps (notifications/sweeps.py) decide which commitments are due and write the messages; the
change to each commitment is one of these named actions, and each batch is written back with one
UPDATE (commitments.services.batches.save_changes). Logging a call resets the update clock here too.
"""

from collections.abc import Callable
from datetime import datetime

from commitments.models import ACTIVE_STATUSES, Commitment, Status
from commitments.services.batches import save_changes

# Columns each action changes, written back in one UPDATE per batch.
MISSED_FIELDS = [
    "status",
    "missed_at",
    "last_update_at",
    "next_update_at",
    "escalations_sent",
    "next_escalation_at",
    "updated_at",
]
ESCALATION_FIELDS = ["escalations_sent", "next_escalation_at", "updated_at"]
UPDATE_FIELDS = ["last_update_at", "next_update_at", "updated_at"]
SATISFACTION_FIELDS = ["satisfaction_due_at", "updated_at"]


def mark_missed(
    commitment: Commitment, *, now: datetime, escalations_sent: int, next_reminder: datetime, update_sends_at: datetime
) -> None:
    """Past due and not fulfilled: missed, every warning counted as sent, the owner reminded from then on.

    The apology counts as hearing from us: the next update is one interval after the customer gets it.
    """
    commitment.status = Status.MISSED
    commitment.missed_at = now
    commitment.escalations_sent = escalations_sent
    commitment.next_escalation_at = next_reminder
    commitment.last_update_at = now
    commitment.next_update_at = update_sends_at + commitment.update_interval
    commitment.updated_at = now


def save_missed(batch: list[Commitment]) -> None:
    save_changes(batch, MISSED_FIELDS)


def touch(commitment: Commitment, *, now: datetime) -> None:
    """The sweep looked at it: its row changed now (whichever step follows)."""
    commitment.updated_at = now


def step_warning_ladder(commitment: Commitment, *, next_warning: Callable[[Commitment], datetime | None]) -> None:
    """One more warning before the due time was sent; the next one is timed from the new step."""
    commitment.escalations_sent += 1
    commitment.next_escalation_at = next_warning(commitment)


def schedule_missed_reminder(commitment: Commitment, *, next_reminder: datetime | None) -> None:
    commitment.next_escalation_at = next_reminder


def stop_escalating(commitment: Commitment) -> None:
    """Waiting (its clock is paused) or already past due (the missed sweep takes it): no warning due."""
    commitment.next_escalation_at = None


def save_escalations(batch: list[Commitment]) -> None:
    save_changes(batch, ESCALATION_FIELDS)


def restart_update_clock(commitment: Commitment, *, now: datetime, sends_at: datetime) -> None:
    """The customer hears from us (sent at ``sends_at``): the next update is one interval after that."""
    commitment.last_update_at = now
    commitment.next_update_at = sends_at + commitment.update_interval
    commitment.updated_at = now


def save_update_clocks(batch: list[Commitment]) -> None:
    save_changes(batch, UPDATE_FIELDS)


def clear_satisfaction_check(commitment: Commitment, *, now: datetime) -> None:
    """The satisfaction check is asked: none is due any more."""
    commitment.satisfaction_due_at = None
    commitment.updated_at = now


def save_satisfaction_checks(batch: list[Commitment]) -> None:
    save_changes(batch, SATISFACTION_FIELDS)


def reset_update_clock_after_call(commitment: Commitment, *, now: datetime) -> None:
    """A logged call counts as the customer hearing from us: the next update is one interval from now."""
    if commitment.status in ACTIVE_STATUSES:
        commitment.last_update_at = now
        commitment.next_update_at = now + commitment.update_interval
        commitment.save(update_fields=["last_update_at", "next_update_at", "updated_at"])
