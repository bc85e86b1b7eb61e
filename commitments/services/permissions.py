"""Who may do what to a commitment, and which moves each status allows (one table: pages offer what services accept)."""

from accounts.models import Membership, User
from commitments.errors import NotAllowed
from commitments.models import (
    ACTIVE_STATUSES,
    Commitment,
    Status,
)

# --- Who may do what ------------------------------------------------------------------------

# The statuses each move starts from, and how a refusal words it. One table, so the pages offer
# exactly the moves the services accept.
MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "edit": ((*ACTIVE_STATUSES, Status.FULFILLED), "edited"),
    "send_update": (ACTIVE_STATUSES, "updated"),
    "reschedule": (ACTIVE_STATUSES, "rescheduled"),
    "hand_off": ((*ACTIVE_STATUSES, Status.FULFILLED), "handed off"),
    "wait_on_customer": ((Status.OPEN, Status.REOPENED, Status.MISSED), "put on hold for the customer"),
    "resume": ((Status.WAITING,), "resumed"),
    "fulfil": (ACTIVE_STATUSES, "fulfilled"),
    "record_chase": ((*ACTIVE_STATUSES, Status.FULFILLED), "marked as chased"),
    "cancel": (ACTIVE_STATUSES, "cancelled"),
    "reopen": ((Status.FULFILLED, Status.CONFIRMED), "reopened"),
    "confirm": ((Status.FULFILLED,), "confirmed"),
}


def is_lead_of(user: User, team_id: int) -> bool:
    return user.is_superuser or Membership.objects.filter(user=user, team_id=team_id, role="lead").exists()


def ensure_can_act(actor: User, commitment: Commitment) -> None:
    """Leads act on their team's commitments, agents on the ones they own or are assigned."""
    if actor.is_superuser or actor.pk in (commitment.owner_id, commitment.assignee_id):
        return
    if is_lead_of(actor, commitment.team_id):
        return
    raise NotAllowed("Only the owner, the assignee or a team lead can change this commitment.")


def _ensure_team_member(actor: User, commitment: Commitment) -> None:
    if not (actor.is_superuser or Membership.objects.filter(user=actor, team_id=commitment.team_id).exists()):
        raise NotAllowed("Only a member of the team can record this.")


def available_actions(*, actor: User, commitment: Commitment) -> set[str]:
    """The moves this person may make on this commitment now (the keys of MOVES, less confirm)."""
    by_status = {move for move, (allowed, _) in MOVES.items() if commitment.status in allowed and move != "confirm"}
    try:
        ensure_can_act(actor, commitment)
    except NotAllowed:
        try:
            _ensure_team_member(actor, commitment)
        except NotAllowed:
            return set()
        return by_status & {"record_chase"}
    return by_status


# --- Internals ------------------------------------------------------------------------------
