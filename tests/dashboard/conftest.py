"""A hand-built team whose figures are worked out by hand in the tests.

Home Repairs (lead Lee) has two agents, Alex and Blake. Times are relative to ``NOW``-ish: the
fixture's ``now``. Each commitment is logged through the service, then given its history
directly (times, status, timeline), as if the weeks had passed.

    #   owner  logged  first promise  due now   fulfilled  status     also
    c1  alex   -10d    -5d            -5d       -6d        confirmed  chased; update at -9d (on time)
    c2  alex   -8d     -4d            -2d       -3d        fulfilled  rescheduled; update at -6d (late)
    c3  alex   -3d     -1d            -1d       -          missed     an update owed since -1h
    c4  blake  -5d     -1d            +2h       -2d        reopened   reopened by the customer
    c5  blake  -1d     +3d            +3d       -          open       chased; prefers texts
    c6  blake  -3d     +1d            +1d       -          cancelled
    c9  blake  -6d     -3d            -3d       -1d        confirmed
    c7  alex   -40d    -36d           -35d      -34d       fulfilled  (outside 30 days, inside 90)
    x1  morgan (Billing, another team)                     missed
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import Membership, Team, User
from commitments.models import Commitment, Status, TimelineEvent
from tests.factories import MembershipFactory, TeamFactory, UserFactory, customer_details, make_commitment

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


@dataclass
class Story:
    now: datetime
    team: Team
    lead: User
    alex: User
    blake: User
    other_team: Team
    other_lead: User
    c: dict[str, Commitment]


def shape(
    commitment: Commitment,
    now: datetime,
    *,
    logged: timedelta,
    promised: timedelta,
    due: timedelta,
    status: str,
    fulfilled: timedelta | None = None,
    next_update: timedelta | None = None,
) -> Commitment:
    values = {
        "created_at": now + logged,
        "promised_at": now + promised,
        "due_at": now + due,
        "status": status,
        "fulfilled_at": now + fulfilled if fulfilled is not None else None,
        "next_update_at": now + next_update if next_update is not None else None,
        "update_interval": DAY,
        "next_escalation_at": None,
        "missed_at": now + due if status == Status.MISSED else None,
        "confirmed_at": now if status == Status.CONFIRMED else None,
    }
    Commitment.objects.filter(pk=commitment.pk).update(**values)
    TimelineEvent.objects.filter(commitment=commitment, kind=TimelineEvent.Kind.CREATED).update(created_at=now + logged)
    commitment.refresh_from_db()
    return commitment


def event(commitment: Commitment, kind: str, at: datetime, *, actor: User | None = None, label: str = "") -> None:
    TimelineEvent.objects.create(
        commitment=commitment, kind=kind, created_at=at, actor=actor, actor_label=label or ("" if actor else "system")
    )


@pytest.fixture
def story(db) -> Story:
    now = timezone.now()
    team = TeamFactory.create(name="Home Repairs", timezone="UTC")
    lead = UserFactory.create(username="lee", first_name="Lee", last_name="Chen")
    alex = UserFactory.create(username="alex", first_name="Alex", last_name="Rivera")
    blake = UserFactory.create(username="blake", first_name="Blake", last_name="Moss")
    MembershipFactory.create(user=lead, team=team, role=Membership.Role.LEAD)
    MembershipFactory.create(user=alex, team=team, role=Membership.Role.AGENT)
    MembershipFactory.create(user=blake, team=team, role=Membership.Role.AGENT)
    other_team = TeamFactory.create(name="Billing", timezone="UTC")
    other_lead = UserFactory.create(username="pat", first_name="Pat", last_name="Kim")
    morgan = UserFactory.create(username="morgan", first_name="Morgan", last_name="Blake")
    MembershipFactory.create(user=other_lead, team=other_team, role=Membership.Role.LEAD)
    MembershipFactory.create(user=morgan, team=other_team, role=Membership.Role.AGENT)

    def log(owner: User, summary: str, **customer: str) -> Commitment:
        details = customer_details(**customer) if customer else customer_details()
        return make_commitment(actor=owner, summary=summary, customer=details)

    c: dict[str, Commitment] = {}
    c["c1"] = shape(
        log(alex, "Send the estimate"), now, logged=-10 * DAY, promised=-5 * DAY, due=-5 * DAY,
        status=Status.CONFIRMED, fulfilled=-6 * DAY,
    )  # fmt: skip
    event(c["c1"], TimelineEvent.Kind.CHASED, now - 7 * DAY, actor=alex)
    event(c["c1"], TimelineEvent.Kind.UPDATE_SENT, now - 9 * DAY)
    c["c2"] = shape(
        log(alex, "Book the technician"), now, logged=-8 * DAY, promised=-4 * DAY, due=-2 * DAY,
        status=Status.FULFILLED, fulfilled=-3 * DAY,
    )  # fmt: skip
    event(c["c2"], TimelineEvent.Kind.UPDATE_SENT, now - 6 * DAY, actor=alex)
    event(c["c2"], TimelineEvent.Kind.RESCHEDULED, now - 5 * DAY, actor=alex)
    c["c3"] = shape(
        log(alex, "Refund the duplicate charge"), now, logged=-3 * DAY, promised=-DAY, due=-DAY,
        status=Status.MISSED, next_update=-HOUR,
    )  # fmt: skip
    c["c4"] = shape(
        log(blake, "Fix the thermostat"), now, logged=-5 * DAY, promised=-DAY, due=2 * HOUR,
        status=Status.REOPENED, fulfilled=-2 * DAY, next_update=10 * HOUR,
    )  # fmt: skip
    event(c["c4"], TimelineEvent.Kind.REOPENED, now - DAY, label="customer")
    c["c5"] = shape(
        log(blake, "Ship the filter", name="Priya Raman", email="priya@example.com", phone="+14155550178",
            preferred_channel="sms"),
        now, logged=-DAY, promised=3 * DAY, due=3 * DAY, status=Status.OPEN, next_update=20 * HOUR,
    )  # fmt: skip
    event(c["c5"], TimelineEvent.Kind.CHASED, now - 2 * HOUR, actor=blake)
    c["c6"] = shape(log(blake, "Visit on Friday"), now, logged=-3 * DAY, promised=DAY, due=DAY, status=Status.CANCELLED)
    c["c9"] = shape(
        log(blake, "Replace the valve"), now, logged=-6 * DAY, promised=-3 * DAY, due=-3 * DAY,
        status=Status.CONFIRMED, fulfilled=-DAY,
    )  # fmt: skip
    c["c7"] = shape(
        log(alex, "Old promise"), now, logged=-40 * DAY, promised=-36 * DAY, due=-35 * DAY,
        status=Status.FULFILLED, fulfilled=-34 * DAY,
    )  # fmt: skip
    c["x1"] = shape(
        log(morgan, "Another team's promise", name="Omar Haddad", email="omar@example.com", phone="+12065550122"),
        now, logged=-2 * DAY, promised=-DAY, due=-DAY, status=Status.MISSED,
    )  # fmt: skip
    return Story(
        now=now, team=team, lead=lead, alex=alex, blake=blake, other_team=other_team, other_lead=other_lead, c=c
    )
