"""A list row reads the same whether it is built from a commitment in hand or from the plain values
the long lists read (``selectors.listed_rows``)."""

from datetime import timedelta
from typing import cast

import pytest
from django.utils import timezone

from accounts.models import Membership, User
from commitments import services
from commitments.list_rows import list_rows
from commitments.models import Commitment, Temperature
from commitments.selectors import listed_rows
from tests.factories import MembershipFactory, UserFactory, customer_details, make_commitment

pytestmark = pytest.mark.django_db


def test_a_row_from_plain_values_is_the_row_of_the_commitment_itself(agent, colleague, team, now):
    # Given commitments unlike each other: handed off to someone known only by a username, to a
    # customer in another zone, upset, with a reference; overdue; waiting; fulfilled
    nameless = cast(User, UserFactory(username="kim", first_name="", last_name=""))
    MembershipFactory(user=nameless, team=team, role=Membership.Role.AGENT)
    handed = make_commitment(
        actor=agent,
        summary="Send <the> estimate & quote",
        external_ref="TCK-1",
        customer=customer_details(name='Dana "D" O\'Neil', email="dana@example.com", timezone="Asia/Tokyo"),
        due_at=now + timedelta(hours=5),
    )
    services.hand_off(actor=agent, commitment=handed, assignee=nameless)
    Commitment.objects.filter(pk=handed.pk).update(temperature=Temperature.UPSET)
    late = make_commitment(actor=colleague, summary="Late one", due_at=now + timedelta(hours=1))
    Commitment.objects.filter(pk=late.pk).update(due_at=now - timedelta(hours=2))
    waiting = make_commitment(actor=agent, summary="Waiting one", due_at=now + timedelta(days=2))
    services.wait_on_customer(actor=agent, commitment=waiting, request="The serial number")
    done = make_commitment(actor=agent, summary="Done one", due_at=now + timedelta(days=1))
    services.fulfil(actor=agent, commitment=done, resolution="Sent.")
    ids = [handed.pk, late.pk, waiting.pk, done.pk]

    # When their rows are built both ways, for the agent's own list and for a team list
    read = listed_rows(ids)
    in_hand = [Commitment.objects.select_related("customer", "owner", "assignee").get(pk=pk) for pk in ids]
    timezone.activate("America/New_York")
    try:
        for show_people in (False, True):
            from_values = list_rows([read[pk] for pk in ids], user=agent, show_people=show_people, now=now)
            from_models = list_rows(in_hand, user=agent, show_people=show_people, now=now)

            # Then every row's markup is the same, to the byte
            assert [row.html() for row in from_values] == [row.html() for row in from_models]
    finally:
        timezone.deactivate()
    assert "with kim" in list_rows([read[handed.pk]], user=agent, now=now)[0].html()
    assert read[handed.pk].customer.email == "dana@example.com"
