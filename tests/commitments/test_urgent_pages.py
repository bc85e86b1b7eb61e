"""A page of a list read in parts (``selectors.urgent_page_in_parts``) or in one pass
(``selectors.urgent_page``) is the same page of the same list, with the same figures, as sorting
the whole list."""

from datetime import timedelta

import pytest
import time_machine
from django.db.models import Count

from commitments import selectors
from commitments.models import Commitment, Status
from tests.factories import make_commitment

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed(agent, colleague, now):
    """Commitments in every part of the list: upset or not, each urgency, several alike in due time."""
    made = []
    for index, (hours, temperature) in enumerate(
        [
            (-5, "calm"),
            (-1, "upset"),
            (2, "calm"),
            (2, "calm"),  # The same due time: the id decides.
            (3, "upset"),
            (30, "worried"),
            (48, "calm"),
            (72, "upset"),
            (96, "calm"),
            (100, "calm"),
            (120, "upset"),
        ]
    ):
        with time_machine.travel(now - timedelta(hours=10), tick=False):
            made.append(
                make_commitment(
                    actor=agent if index % 2 else colleague,
                    summary=f"Promise {index}",
                    due_at=now + timedelta(hours=hours),
                    temperature=temperature,
                )
            )
    # An update due on two of the later ones, a missed one, and one waiting on the customer
    Commitment.objects.filter(pk__in=[made[7].pk, made[9].pk]).update(next_update_at=now + timedelta(minutes=20))
    Commitment.objects.filter(pk=made[8].pk).update(status=Status.MISSED, next_update_at=None)
    Commitment.objects.filter(pk=made[10].pk).update(status=Status.WAITING)
    return made


def sorted_whole(listed):
    ids = list(listed.values_list("pk", flat=True))
    grouped = {row["urgency"]: row["n"] for row in listed.order_by().values("urgency").annotate(n=Count("pk"))}
    counts = {
        "total": len(ids),
        "overdue": grouped.get(selectors.OVERDUE, 0),
        "update_due": grouped.get(selectors.UPDATE_DUE, 0),
        "due_soon": grouped.get(selectors.DUE_SOON, 0),
    }
    return ids, counts


@pytest.mark.parametrize("per_page", [1, 2, 3, 4, 50])
def test_every_page_in_parts_is_that_page_of_the_whole_sorted_list(agent, now, mixed, per_page):
    listed = selectors.team_commitments(user=agent, now=now)
    ids, counts = sorted_whole(listed)
    assert counts["overdue"] and counts["update_due"] and counts["due_soon"]  # Every part is there.

    for number in range(1, len(ids) // per_page + 2):
        found, rows = selectors.urgent_page_in_parts(listed, now=now, page=str(number), per_page=per_page)
        start = (number - 1) * per_page
        assert found == counts
        assert [c.pk for c in rows[start : min(start + per_page, len(ids))]] == ids[start : start + per_page]


@pytest.mark.parametrize("per_page", [1, 3, 50])
def test_every_page_in_one_pass_is_that_page_of_the_whole_sorted_list(agent, now, mixed, per_page):
    listed = selectors.my_commitments(user=agent, now=now)
    ids, counts = sorted_whole(listed)
    assert ids

    for number in range(1, len(ids) // per_page + 2):
        found, rows = selectors.urgent_page(listed, page=str(number), per_page=per_page)
        start = (number - 1) * per_page
        assert found == counts
        assert [c.pk for c in rows[start : min(start + per_page, len(ids))]] == ids[start : start + per_page]
