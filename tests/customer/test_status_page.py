"""The customer's status page: what we promised, in their time zone and plain words, to the link's holder only."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from commitments import services
from commitments.customer import services as customer_services
from commitments.errors import NotAllowed
from commitments.models import Commitment, TimelineEvent
from commitments.status_links import token_for
from notifications import outbox
from notifications.models import Audience, MessageKind, Notification
from tests.customer.conftest import link, page_text
from tests.factories import customer_details, make_commitment

pytestmark = pytest.mark.django_db


def without_csrf_token(text: str) -> str:
    """Pages differ only by their per-request CSRF token."""
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", text)


def test_the_page_says_what_we_promised_who_owns_it_and_when_in_the_customers_time(client, agent, lead):
    # Given a promise made on Monday 9 March 2026 at 14:00 UTC, due Wednesday at 21:30 UTC
    with time_machine.travel(datetime(2026, 3, 9, 14, 0, tzinfo=UTC), tick=False):
        commitment = make_commitment(
            actor=agent,
            summary="Send the repair estimate",
            due_at=datetime(2026, 3, 11, 21, 30, tzinfo=UTC),
            update_interval=timedelta(hours=24),
        )

        # When the customer (in New York) opens their link on the same day
        response = client.get(link(commitment))

    # Then they see the promise, its owner's first name, the team, the due time and the next update in New York time
    assert response.status_code == 200
    text = page_text(response)
    assert "What we promised you" in text
    assert "Send the repair estimate" in text
    assert "Alex, Home Repairs" in text
    assert "Rivera" not in text  # The first name is enough.
    assert "Wednesday 11 March at 5:30 pm" in text  # 21:30 UTC is 5:30 pm EDT.
    assert "tomorrow at 10:00 am" in text  # Next update: 24 h after 14:00 UTC = 10:00 am EDT.
    assert "New York time (EDT)" in text
    assert "In progress" in text
    assert "We logged your request" in text


def test_the_latest_update_and_the_history_show_what_we_told_the_customer(client, commitment, agent):
    # Given an update and a new time, with a reason, sent to the customer
    services.send_update(actor=agent, commitment=commitment, message="The part is ordered; it arrives Thursday.")
    services.reschedule(
        actor=agent,
        commitment=commitment,
        due_at=commitment.due_at + timedelta(days=1),
        reason="The supplier needs one more day.",
    )

    # When the customer opens the page
    text = page_text(client.get(link(commitment)))

    # Then the latest update is the new time and the history holds everything, newest first
    latest = text.split('id="latest-title"')[1].split("</section>")[0]
    assert "New time:" in latest and "The supplier needs one more day." in latest
    history = text.split('id="history-title"')[1]
    assert history.index("The supplier needs one more day.") < history.index("The part is ordered")
    assert history.index("The part is ordered") < history.index("We logged your request")
    assert "Update from Alex" in history


def test_internal_notes_hand_offs_chases_and_staff_alerts_never_show(client, commitment, agent, colleague):
    # Given private details: the commitment's internal details, the customer's private notes,
    # a hand-off note, a chase note, a staff reopen reason and a staff alert
    commitment.customer.notes = "PRIVATE-CUSTOMER-NOTE: prefers not to be called after 5"
    commitment.customer.save()
    services.hand_off(actor=agent, commitment=commitment, assignee=colleague, note="PRIVATE-HANDOFF-NOTE")
    services.record_chase(actor=agent, commitment=commitment, channel="phone", note="PRIVATE-CHASE-NOTE")
    services.fulfil(actor=agent, commitment=commitment, resolution="The estimate is in your inbox.")
    services.reopen(actor=agent, commitment=commitment, reason="PRIVATE-REOPEN-REASON")
    TimelineEvent.objects.create(commitment=commitment, kind=TimelineEvent.Kind.MESSAGE, message="PRIVATE-MESSAGE")
    assert Notification.objects.filter(commitment=commitment, audience=Audience.STAFF).exists()

    # When the customer opens the page
    text = page_text(client.get(link(commitment)))

    # Then none of it shows, while what we told them does
    for private in ("PRIVATE-", "Estimate for the water heater replacement", "sam", "Okafor", "@staff.example.com"):
        assert private not in text, private
    assert "The estimate is in your inbox." in text
    assert "We reopened your request" in text


def test_opening_the_page_changes_nothing(client, commitment, agent):
    # Given a fulfilled commitment waiting for the customer's answer
    services.fulfil(actor=agent, commitment=commitment, resolution="Done.")
    before = (
        Commitment.objects.values().get(pk=commitment.pk),
        TimelineEvent.objects.count(),
        Notification.objects.count(),
    )

    # When a mail scanner opens every link on every page (GET and HEAD)
    for page in ("", "resolved", "not-resolved", "answer", "preferences", "unsubscribe"):
        for method in (client.get, client.head):
            assert method(link(commitment, page)).status_code in (200, 302)

    # Then nothing changed: not the commitment, not its timeline, not the outbox
    after = (
        Commitment.objects.values().get(pk=commitment.pk),
        TimelineEvent.objects.count(),
        Notification.objects.count(),
    )
    assert after == before
    assert commitment.customer.__class__.objects.get(pk=commitment.customer_id).email_updates_opted_out is False


@pytest.mark.parametrize("page", ["", "resolved", "not-resolved", "answer", "preferences", "unsubscribe"])
def test_a_wrong_or_tampered_token_is_a_plain_404(client, commitment, page):
    token = token_for(commitment.status_token_nonce)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")

    for bad in (tampered, "not-a-token", "x" * 200):
        response = client.get(f"/s/{bad}/{page}/" if page else f"/s/{bad}/")
        assert response.status_code == 404
        assert "Page not found" in page_text(response)
        assert commitment.summary not in page_text(response)
    assert client.post(f"/s/{tampered}/{page}/" if page else f"/s/{tampered}/").status_code in (404, 405)


def test_a_revoked_link_is_the_same_404_as_one_that_never_existed(client, commitment, agent):
    # Given the customer's link, and then a fresh one issued by the owner
    old = link(commitment)
    customer_services.revoke_status_link(actor=agent, commitment=commitment)
    new = link(commitment)

    # When someone opens the old link, and a link that never existed
    revoked = client.get(old)
    never = client.get("/s/" + "Q" * 43 + "/")

    # Then both get the same plain 404, and the new link works
    assert revoked.status_code == never.status_code == 404
    assert without_csrf_token(page_text(revoked)) == without_csrf_token(page_text(never))
    assert "Page not found" in page_text(revoked) and commitment.summary not in page_text(revoked)
    assert client.get(new).status_code == 200
    assert TimelineEvent.objects.filter(commitment=commitment, data__status_link="revoked").exists()


def test_only_the_owner_assignee_or_lead_may_revoke_a_link(commitment, outsider):
    with pytest.raises(NotAllowed):
        customer_services.revoke_status_link(actor=outsider, commitment=commitment)


def test_each_token_shows_its_own_commitment_and_nothing_of_another(client, agent):
    # Given two customers' promises
    first = make_commitment(actor=agent, summary="Fix the boiler")
    second = make_commitment(
        actor=agent,
        summary="Replace the window",
        customer=customer_details(name="Ravi Patel", email="ravi@example.com", phone="+15555550177"),
    )

    # When each customer opens their own link
    first_page = page_text(client.get(link(first)))
    second_page = page_text(client.get(link(second)))

    # Then each sees only their own
    assert "Fix the boiler" in first_page and "Replace the window" not in first_page
    assert "Replace the window" in second_page and "Fix the boiler" not in second_page
    # And one customer's link cannot act on the other's commitment
    services.fulfil(actor=agent, commitment=second, resolution="Window replaced.")
    client.post(link(first, "resolved"))
    second.refresh_from_db()
    assert second.status == "fulfilled"


def test_the_page_is_private_to_the_link_holder(client, commitment):
    response = client.get(link(commitment))

    assert response["Cache-Control"] == "private, no-store"
    assert "noindex" in response["X-Robots-Tag"]
    assert response["Referrer-Policy"] == "same-origin"  # The token never leaves in a Referer.


def test_a_waiting_commitment_says_exactly_what_we_need(client, commitment, agent):
    services.wait_on_customer(actor=agent, commitment=commitment, request="A photo of the heater's serial plate.")

    text = page_text(client.get(link(commitment)))

    assert "We need something from you" in text
    assert "A photo of the heater's serial plate." in text
    assert 'for="id_answer"' in text and "Send my answer" in text


def test_a_fulfilled_commitment_asks_whether_it_is_resolved(client, commitment, agent):
    services.fulfil(actor=agent, commitment=commitment, resolution="The estimate is in your inbox.")

    text = page_text(client.get(link(commitment)))

    assert "Is it resolved?" in text
    assert "Yes, it's resolved" in text and "No, still a problem" in text
    assert "The estimate is in your inbox." in text


def test_automatic_updates_are_listed_once_with_the_message_we_sent(client, commitment, agent):
    # Given an update Alex wrote, and one the engine sent on its own when the interval ran out
    services.send_update(actor=agent, commitment=commitment, message="The part is ordered.")
    outbox.notify_customer(commitment, MessageKind.STATUS_UPDATE, key=f"{commitment.pk}:status_update:auto-1")
    automatic = Notification.objects.get(idempotency_key=f"{commitment.pk}:status_update:auto-1")

    # When the customer opens the page
    history = page_text(client.get(link(commitment))).split('id="history-title"')[1]

    # Then Alex's update shows once, in Alex's words, and the automatic one with the message itself
    assert history.count("The part is ordered.") == 1
    assert history.count("Status update") == 1
    assert "Read the message" in history
    assert automatic.body.splitlines()[0] in history
