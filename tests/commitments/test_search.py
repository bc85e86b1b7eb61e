"""Search by the words of a commitment, which live in a table of their own (``CommitmentSearchText``)."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse

from commitments import selectors, services
from tests.factories import customer_details, make_commitment

pytestmark = pytest.mark.django_db


def text(response) -> str:
    """The page as a person reads it: tags dropped, entities decoded, spaces collapsed."""
    html = re.sub(r"<(script|style|datalist)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def test_an_edited_summary_is_found_by_its_new_words_and_not_its_old(signed_in, agent, now):
    promise = make_commitment(
        actor=agent, summary="Send the repair estimate", details="", due_at=now + timedelta(days=1)
    )

    services.edit_commitment(actor=agent, commitment=promise, summary="Book the plumber for Tuesday")

    found = text(signed_in.get(reverse("commitments:search"), {"q": "plumber"}))
    assert "1 commitment found" in found and "Book the plumber for Tuesday" in found
    gone = text(signed_in.get(reverse("commitments:search"), {"q": "repair estimate"}))
    assert "0 commitments found" in gone and "Book the plumber for Tuesday" not in gone


def test_edited_details_are_found_by_their_new_words_and_not_their_old(signed_in, agent, now):
    promise = make_commitment(actor=agent, details="The water heater leaks.", due_at=now + timedelta(days=1))

    services.edit_commitment(actor=agent, commitment=promise, details="The boiler needs a new valve.")

    assert "1 commitment found" in text(signed_in.get(reverse("commitments:search"), {"q": "boiler"}))
    assert "0 commitments found" in text(signed_in.get(reverse("commitments:search"), {"q": "water heater"}))


def test_words_many_commitments_share_find_the_same_ones(agent, outsider, now, monkeypatch):
    """Past the short list of ids, the words are matched through a join: the same commitments come back."""
    make_commitment(actor=agent, summary="Send the estimate for the roof", details="")
    make_commitment(actor=agent, summary="Call back", details="About the estimate for the fence.")
    make_commitment(actor=agent, summary="Unrelated", details="", external_ref="ESTIMATE-9")
    make_commitment(actor=agent, summary="Nothing to do with it", details="")
    make_commitment(
        actor=outsider,
        summary="Another team's estimate",
        details="",
        customer=customer_details(name="Omar Haddad", email="omar@example.com"),
    )

    few = {commitment.summary for commitment in selectors.search_commitments(user=agent, query="estimate")}
    monkeypatch.setattr(selectors, "MAX_LISTED_MATCHES", 1)
    many = {commitment.summary for commitment in selectors.search_commitments(user=agent, query="estimate")}

    assert few == many == {"Send the estimate for the roof", "Call back", "Unrelated"}


def test_housekeeping_mends_the_words_a_previous_release_left_unsearchable(signed_in, agent, now):
    from commitments.models import CommitmentSearchText
    from followthrough.housekeeping import prune

    # Given, while a deploy rolled out, the previous release's processes logged a promise, so it has
    # no search row
    logged = make_commitment(
        actor=agent, summary="Replace the cracked tile", details="", due_at=now + timedelta(days=1)
    )
    make_commitment(actor=agent, summary="Send the repair estimate", details="", due_at=now + timedelta(days=1))
    CommitmentSearchText.objects.filter(commitment=logged).delete()
    assert "0 commitments found" in text(signed_in.get(reverse("commitments:search"), {"q": "cracked tile"}))

    # When the hourly housekeeping runs
    assert prune().search_words_mended == 1

    # Then it is found by its words, and a second run finds nothing left to mend
    assert "Replace the cracked tile" in text(signed_in.get(reverse("commitments:search"), {"q": "cracked tile"}))
    assert prune().search_words_mended == 0
