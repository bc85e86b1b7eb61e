"""The staff pages through Django's test client: scoping, validation, and every move on a commitment."""

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Team
from commitments import services, views
from commitments.models import Commitment, Customer, Status, TimelineEvent
from notifications.models import Notification
from tests.factories import MembershipFactory, TeamFactory, UserFactory, customer_details, make_commitment

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def text(response) -> str:
    """The page as a person reads it: tags dropped, entities decoded, spaces collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style|datalist)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def errors_beside(response, field_id: str) -> str:
    """The error list rendered right under the field with this id."""
    match = re.search(rf'id="{field_id}_errors">(.*?)</ul>', response.content.decode(), flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


@pytest.fixture
def promise(agent, now):
    return make_commitment(actor=agent, summary="Send the repair estimate", due_at=now + timedelta(hours=3))


@pytest.fixture
def other_teams_promise(outsider, now):
    return make_commitment(
        actor=outsider,
        summary="Refund the duplicate charge",
        customer=customer_details(name="Omar Haddad", email="omar@example.com", phone="+12065550122"),
    )


# --- Who sees what -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mine", "team", "search", "new"])
def test_every_page_asks_for_a_login_first(client, name):
    response = client.get(reverse(f"commitments:{name}"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_a_commitment_page_asks_for_a_login_first(client, promise):
    response = client.get(promise.get_absolute_url())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_another_teams_commitment_and_customer_are_not_found(signed_in, other_teams_promise):
    assert signed_in.get(other_teams_promise.get_absolute_url()).status_code == 404
    move = reverse("commitments:move", args=[other_teams_promise.pk, "fulfil"])
    assert signed_in.post(move, {"resolution": "Done."}).status_code == 404
    assert signed_in.get(reverse("commitments:customer", args=[other_teams_promise.customer_id])).status_code == 404
    other_teams_promise.refresh_from_db()
    assert other_teams_promise.status == Status.OPEN


def test_another_teams_commitments_stay_out_of_lists_and_search(signed_in, promise, other_teams_promise):
    assert "Refund the duplicate charge" not in text(signed_in.get(reverse("commitments:team")))
    results = signed_in.get(reverse("commitments:search"), {"q": "omar@example.com"})
    assert "Refund the duplicate charge" not in text(results)
    assert "0 commitments found" in text(results)


def test_a_lead_of_both_teams_sees_both(client, promise, other_teams_promise, outsider):
    lead = UserFactory(username="kim", first_name="Kim", last_name="Lee")
    MembershipFactory(user=lead, team=promise.team, role="lead")
    MembershipFactory(user=lead, team=other_teams_promise.team, role="lead")
    client.force_login(lead)

    page = text(client.get(reverse("commitments:team")))

    assert "Send the repair estimate" in page and "Refund the duplicate charge" in page


# --- My commitments ---------------------------------------------------------------------------------


def test_my_commitments_put_the_most_urgent_first_with_relative_and_local_times(signed_in, agent, colleague, now):
    # Given promises logged at different moments
    with time_machine.travel(now - timedelta(hours=4), tick=False):
        late = make_commitment(actor=agent, summary="Late one", due_at=now - timedelta(hours=2))
    relaxed = make_commitment(actor=agent, summary="Relaxed one", due_at=now + timedelta(days=5))
    soon = make_commitment(actor=agent, summary="Soon one", due_at=now + timedelta(hours=3))
    update_due = make_commitment(actor=agent, summary="Update one", due_at=now + timedelta(days=4))
    Commitment.objects.filter(pk=update_due.pk).update(next_update_at=now + timedelta(minutes=20))
    handed_to_me = make_commitment(actor=colleague, summary="Handed to me", due_at=now + timedelta(days=6))
    services.hand_off(actor=colleague, commitment=handed_to_me, assignee=agent)
    make_commitment(actor=colleague, summary="Not mine", due_at=now + timedelta(hours=1))
    fulfilled = make_commitment(actor=agent, summary="Done one", due_at=now + timedelta(days=1))
    services.fulfil(actor=agent, commitment=fulfilled, resolution="Sent.")

    # When the agent opens their list
    response = signed_in.get(reverse("commitments:mine"))

    # Then overdue comes first, then an update due, then due soon, then the rest by due time
    page = text(response)
    order = [page.index(summary) for summary in ["Late one", "Update one", "Soon one", "Relaxed one", "Handed to me"]]
    assert order == sorted(order)
    assert "Not mine" not in page
    # With relative times, the team's clock and the customer's
    assert "2 h overdue" in page
    assert "due in 3 h" in page
    assert "Mon 24 Nov, 13:00" in page  # The agent's team is in New York (UTC-5).
    assert "from Sam Okafor" in page
    # And the figures above the list
    assert re.search(r"1 Overdue 1 Update due 1 Due soon 5 Open", page)
    # Fulfilled ones wait apart for the customer's confirmation
    assert "Fulfilled, waiting for the customer to confirm Done one" in page
    assert late.status == relaxed.status == soon.status == Status.OPEN


def test_the_list_needs_the_same_few_queries_however_long_it_is(signed_in, agent, now, django_assert_max_num_queries):
    for index in range(25):
        make_commitment(
            actor=agent,
            summary=f"Promise {index}",
            customer=customer_details(email=f"c{index}@example.com", phone=""),
            due_at=now + timedelta(hours=index + 1),
        )
    with django_assert_max_num_queries(10):
        response = signed_in.get(reverse("commitments:mine"))
    assert text(response).count("Promise ") == 25


def test_the_recently_fulfilled_show_beside_the_first_page_however_it_was_asked_for(signed_in, agent, now):
    # Given an agent with one promise still owed and one fulfilled
    make_commitment(actor=agent, summary="Still owed", due_at=now + timedelta(days=2))
    done = make_commitment(actor=agent, summary="Done one", due_at=now + timedelta(days=1))
    services.fulfil(actor=agent, commitment=done, resolution="Sent.")

    # When they open their list, and a page number past its end (which shows the first page)
    for page in ["", "?page=1", "?page=9", "?page=x"]:
        listed = text(signed_in.get(reverse("commitments:mine") + page))

        # Then the fulfilled one waits apart below the page, every time
        assert "Still owed" in listed
        assert "Fulfilled, waiting for the customer to confirm Done one" in listed


def test_the_recently_fulfilled_are_not_shown_beside_a_later_page(signed_in, agent, now):
    # Given more promises than a page holds, and one fulfilled
    for index in range(views.PAGE_SIZE + 1):
        make_commitment(
            actor=agent,
            summary=f"Promise {index}",
            customer=customer_details(email=f"c{index}@example.com", phone=""),
            due_at=now + timedelta(hours=index + 1),
        )
    done = make_commitment(actor=agent, summary="Done one", due_at=now + timedelta(days=1))
    services.fulfil(actor=agent, commitment=done, resolution="Sent.")

    # When the agent turns to the second page
    listed = text(signed_in.get(reverse("commitments:mine") + "?page=2"))

    # Then it shows the last promise, and the fulfilled one only on the first page
    assert f"Promise {views.PAGE_SIZE}" in listed
    assert "Done one" not in listed
    assert "Done one" in text(signed_in.get(reverse("commitments:mine")))


# --- Log a promise ----------------------------------------------------------------------------------


def log_promise_data(**overrides: str) -> dict[str, str]:
    data = {
        "customer_email": "dana@example.com",
        "customer_phone": "",
        "customer_name": "Dana Whitfield",
        "preferred_channel": "email",
        "customer_timezone": "America/Chicago",
        "summary": "Send the repair estimate",
        "due_choice": "",
        "due_at": "2025-11-25T10:00",
    }
    data.update(overrides)
    return data


def test_the_form_has_a_visible_label_for_every_field(signed_in):
    response = signed_in.get(reverse("commitments:new"))
    html = response.content.decode()
    for field_id in [
        "id_customer_email",
        "id_customer_phone",
        "id_customer_name",
        "id_customer_timezone",
        "id_summary",
        "id_due_at",
        "id_details",
        "id_owner",
        "id_update_interval",
        "id_target_at",
        "id_external_ref",
    ]:
        assert f'<label for="{field_id}">' in html, field_id
    assert "In 2 hours" in html and "Tomorrow 10:00" in html and "End of today" in html


def test_logging_a_promise_reads_an_exact_time_in_the_teams_zone(signed_in, agent, now):
    response = signed_in.post(reverse("commitments:new"), log_promise_data())

    commitment = Commitment.objects.get()
    assert response.status_code == 302 and response["Location"] == commitment.get_absolute_url()
    assert commitment.due_at.isoformat() == "2025-11-25T15:00:00+00:00"  # 10:00 in New York
    assert (commitment.owner, commitment.customer.timezone) == (agent, "America/Chicago")
    page = text(signed_in.get(response["Location"]))
    assert "Promise logged. Dana Whitfield is being sent an acknowledgement by email now." in page


def test_a_quick_pick_sets_the_due_time(signed_in, now):
    signed_in.post(reverse("commitments:new"), log_promise_data(due_choice="tomorrow_10", due_at=""))

    assert Commitment.objects.get().due_at.isoformat() == "2025-11-25T15:00:00+00:00"


def test_more_options_reach_the_promise(signed_in, colleague, now):
    signed_in.post(
        reverse("commitments:new"),
        log_promise_data(
            details="Water heater, 50 gallons.",
            owner=str(colleague.pk),
            update_interval="4h",
            target_at="2025-11-25T08:00",
            external_ref="CASE-7",
        ),
    )

    commitment = Commitment.objects.get()
    assert commitment.owner == colleague and commitment.assignee == colleague
    assert commitment.update_interval == timedelta(hours=4)
    assert commitment.target_at == datetime(2025, 11, 25, 13, tzinfo=UTC)
    assert (commitment.details, commitment.external_ref) == ("Water heater, 50 gallons.", "CASE-7")


def test_mistakes_show_beside_their_fields_keep_what_was_typed_and_save_nothing(signed_in, now):
    response = signed_in.post(
        reverse("commitments:new"),
        log_promise_data(
            customer_email="dana@example", customer_timezone="Mars/Base", summary="", due_at="2025-11-20T10:00"
        ),
    )

    assert response.status_code == 400
    assert "Nothing was saved" in text(response)
    assert errors_beside(response, "id_customer_email") == "Enter a valid email address."
    assert "not a known time zone" in errors_beside(response, "id_customer_timezone")
    assert errors_beside(response, "id_summary") == "Say what was promised."
    assert errors_beside(response, "id_due_at") == "The due time must be in the future."
    assert 'value="dana@example"' in response.content.decode()
    assert not Customer.objects.exists() and not Commitment.objects.exists()


def test_a_text_message_customer_needs_a_phone_number(signed_in, now):
    response = signed_in.post(reverse("commitments:new"), log_promise_data(preferred_channel="sms"))

    assert response.status_code == 400
    assert errors_beside(response, "id_customer_phone") == (
        "A phone number is needed to reach this customer by text message."
    )
    assert not Commitment.objects.exists()


def test_no_due_time_at_all_is_asked_for(signed_in, now):
    response = signed_in.post(reverse("commitments:new"), log_promise_data(due_at=""))
    assert errors_beside(response, "id_due_at") == "Enter the date and time."


def test_typing_a_known_email_finds_the_returning_customer(signed_in, promise):
    response = signed_in.get(reverse("commitments:lookup"), {"customer_email": "DANA@example.com"}, **HTMX)

    assert "Returning customer" in text(response)
    found = re.search(r'id="returning-customer" type="application/json">(.*?)</script>', response.content.decode())
    assert found is not None
    data = json.loads(found.group(1))
    assert data == {
        "customer_name": "Dana Whitfield",
        "customer_email": "dana@example.com",
        "customer_phone": "+12025550123",
        "preferred_channel": "email",
        "customer_timezone": "America/New_York",
    }
    assert "1 open commitment" in text(response)


def test_a_phone_number_finds_the_returning_customer_too(signed_in, promise):
    response = signed_in.get(reverse("commitments:lookup"), {"customer_phone": "(202) 555-0123"}, **HTMX)
    assert "Returning customer" in text(response)


def test_a_customer_known_only_to_another_team_is_not_revealed(signed_in, other_teams_promise):
    response = signed_in.get(reverse("commitments:lookup"), {"customer_email": "omar@example.com"}, **HTMX)
    assert "Returning customer" not in text(response)
    assert "Omar" not in response.content.decode()


def test_without_javascript_the_find_button_fills_in_a_returning_customer(signed_in, promise):
    response = signed_in.post(
        reverse("commitments:new"), {"customer_email": "dana@example.com", "lookup": "1", "summary": "Call back"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="Dana Whitfield"' in html and 'value="+12025550123"' in html
    assert 'value="Call back"' in html
    assert Commitment.objects.count() == 1


def test_a_returning_customer_gets_a_second_promise_without_becoming_two(signed_in, promise, now):
    signed_in.post(
        reverse("commitments:new"),
        log_promise_data(customer_email="Dana@Example.com", customer_phone="", summary="Book the fitting"),
    )
    assert Customer.objects.count() == 1
    assert Commitment.objects.filter(customer=promise.customer).count() == 2


# --- One commitment ---------------------------------------------------------------------------------


def test_the_commitment_page_shows_everything_about_it(signed_in, promise):
    response = signed_in.get(promise.get_absolute_url())

    page = text(response)
    assert response.status_code == 200
    assert "Send the repair estimate" in page
    assert "due in 3 h" in page
    assert "Dana Whitfield" in page and "dana@example.com" in page and "+12025550123" in page
    assert "Owner Alex Rivera (you)" in page
    assert promise.status_url in response.content.decode()
    assert "Acknowledgement" in page and "Pending" in page  # The message and its delivery status
    assert "Logged by Alex Rivera" in page  # The timeline
    for move in [
        "Fulfil",
        "Reschedule",
        "Hand off",
        "Wait on the customer",
        "The customer chased us",
        "Edit",
        "Cancel",
    ]:
        assert move in page
    assert "Resume" not in page and "Reopen" not in page


def post_move(client, commitment, move, data, *, htmx=False):
    url = reverse("commitments:move", args=[commitment.pk, move])
    return client.post(url, data, **(HTMX if htmx else {}))


def test_sending_an_update_without_javascript_redirects_back_with_a_confirmation(signed_in, promise):
    response = post_move(signed_in, promise, "update", {"message": "The estimate is nearly ready."})

    assert response.status_code == 302 and response["Location"] == promise.get_absolute_url()
    page = text(signed_in.get(promise.get_absolute_url()))
    assert "Update sent to Dana Whitfield by email." in page
    assert "Update sent by Alex Rivera" in page and "The estimate is nearly ready." in page
    assert Notification.objects.filter(commitment=promise, kind="status_update").exists()


def test_sending_an_update_with_htmx_answers_with_the_refreshed_panel(signed_in, promise):
    response = post_move(signed_in, promise, "update", {"message": "The estimate is nearly ready."}, htmx=True)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="commitment-panel"')
    assert "<html" not in html
    assert "Update sent to Dana Whitfield by email." in text(response)
    assert "Status update" in text(response)  # The new message, in the messages list


def test_an_empty_update_shows_the_error_beside_the_field(signed_in, promise):
    response = post_move(signed_in, promise, "update", {"message": ""}, htmx=True)

    assert response.status_code == 400
    assert errors_beside(response, "id_send_update_message") == "Write the update for the customer."
    assert TimelineEvent.objects.filter(commitment=promise).count() == 1


def test_rescheduling_needs_a_reason_and_a_future_time(signed_in, promise, now):
    refused = post_move(signed_in, promise, "reschedule", {"due_at": "2025-11-20T10:00", "reason": ""}, htmx=True)

    assert refused.status_code == 400
    assert errors_beside(refused, "id_reschedule_due_at") == "The new due time must be in the future."
    assert errors_beside(refused, "id_reschedule_reason") == "Tell the customer why the time changes."
    assert '<details class="move move-reschedule" open>' in refused.content.decode()

    done = post_move(
        signed_in, promise, "reschedule", {"due_choice": "tomorrow_10", "reason": "The part ships tonight."}
    )
    assert done.status_code == 302
    promise.refresh_from_db()
    assert promise.due_at.isoformat() == "2025-11-25T15:00:00+00:00"


def test_handing_off_names_the_new_assignee(signed_in, promise, colleague):
    response = post_move(
        signed_in, promise, "hand-off", {"assignee": str(colleague.pk), "note": "Over to you."}, htmx=True
    )

    assert "Handed off to Sam Okafor. Alex Rivera stays the owner." in text(response)
    promise.refresh_from_db()
    assert (promise.owner.username, promise.assignee.username) == ("alex", "sam")


def test_handing_off_to_nobody_is_refused_beside_the_field(signed_in, promise):
    response = post_move(signed_in, promise, "hand-off", {"assignee": ""}, htmx=True)
    assert response.status_code == 400
    assert errors_beside(response, "id_hand_off_assignee") == "Choose a member of this commitment's team."


def test_waiting_and_resuming_show_the_paused_clock_and_the_new_due_time(signed_in, promise, now):
    response = post_move(signed_in, promise, "wait", {"request": "A photo of the serial plate."}, htmx=True)
    page = text(response)
    assert "Waiting on Dana Whitfield since" in page and "A photo of the serial plate." in page
    assert "clock paused" in page
    assert "If they answer now: due Mon 24 Nov, 13:00" in page

    with time_machine.travel(now + timedelta(hours=2), tick=False):
        response = post_move(signed_in, promise, "resume", {"note": "Photo received."}, htmx=True)
    assert "The clock runs again" in text(response)
    promise.refresh_from_db()
    assert promise.status == Status.OPEN
    assert promise.due_at == now + timedelta(hours=5)


def test_fulfilling_then_reopening(signed_in, promise):
    response = post_move(signed_in, promise, "fulfil", {"resolution": "Estimate sent."}, htmx=True)
    assert "Fulfilled. Dana Whitfield is told now" in text(response)
    assert "Reopen" in text(response)

    response = post_move(signed_in, promise, "reopen", {"reason": "The figures were wrong."}, htmx=True)
    assert "Reopened" in text(response)
    promise.refresh_from_db()
    assert promise.status == Status.REOPENED


def test_recording_a_chase(signed_in, promise):
    post_move(signed_in, promise, "chased", {"channel": "phone", "note": "Called for news."})
    event = list(TimelineEvent.objects.filter(commitment=promise))[-1]
    assert (event.kind, event.data, event.message) == ("chased", {"channel": "phone"}, "Called for news.")


def test_cancelling_then_a_refused_move_is_a_clear_409(signed_in, promise):
    post_move(signed_in, promise, "cancel", {"reason": "Bought elsewhere."})

    response = post_move(signed_in, promise, "fulfil", {"resolution": "Done."}, htmx=True)

    assert response.status_code == 409
    assert "This commitment is cancelled, so it cannot be fulfilled." in text(response)
    promise.refresh_from_db()
    assert promise.status == Status.CANCELLED
    without_htmx = post_move(signed_in, promise, "fulfil", {"resolution": "Done."})
    assert without_htmx.status_code == 409 and "<html" in without_htmx.content.decode()


def test_a_teammate_who_is_not_owner_assignee_or_lead_gets_a_clear_403(client, colleague, promise):
    client.force_login(colleague)

    page = text(client.get(promise.get_absolute_url()))
    assert "You can still record that the customer chased us." in page
    response = post_move(client, promise, "update", {"message": "Hi"}, htmx=True)

    assert response.status_code == 403
    assert "Only the owner, the assignee or a team lead can change this commitment." in text(response)
    assert not Notification.objects.filter(kind="status_update").exists()


def test_editing_the_promise(signed_in, promise):
    response = post_move(
        signed_in,
        promise,
        "edit",
        {"summary": "Send the revised estimate", "details": "", "update_interval": "4h", "target_at": ""},
        htmx=True,
    )

    assert "Changes saved." in text(response)
    promise.refresh_from_db()
    assert (promise.summary, promise.update_interval) == ("Send the revised estimate", timedelta(hours=4))


def test_an_unknown_move_is_not_found(signed_in, promise):
    assert post_move(signed_in, promise, "teleport", {}).status_code == 404
    assert signed_in.get(reverse("commitments:move", args=[promise.pk, "fulfil"])).status_code == 405


def test_logging_a_call_closes_the_call_task(signed_in, promise, agent):
    task = Notification.objects.create(
        commitment=promise,
        kind="call_task",
        channel="email",
        audience="staff",
        recipient=agent.email,
        recipient_user=agent,
        subject="Call Dana Whitfield",
        body="Tell them the estimate is on its way.",
        idempotency_key=f"{promise.pk}:call_task:test",
    )
    page = text(signed_in.get(promise.get_absolute_url()))
    assert "Calls to make" in page and "Call Dana Whitfield" in page

    response = signed_in.post(
        reverse("commitments:log_call", args=[promise.pk, task.pk]), {"note": "Left a voicemail."}, **HTMX
    )

    assert response.status_code == 200
    assert "Call logged." in text(response)
    task.refresh_from_db()
    assert task.completed_at is not None
    assert "Calls to make" not in text(response)


# --- Customers and search ----------------------------------------------------------------------------


def test_the_customer_page_shows_their_promises_in_my_teams_only(signed_in, agent, outsider, promise):
    make_commitment(actor=outsider, summary="Billing question", customer=customer_details())
    services.send_update(actor=agent, commitment=promise, message="Parts are in.")

    page = text(signed_in.get(reverse("commitments:customer", args=[promise.customer_id])))

    assert "Dana Whitfield" in page and "Send the repair estimate" in page
    assert "Billing question" not in page
    assert "What they last heard from us Update sent" in page and "Parts are in." in page


def test_correcting_a_customers_details(signed_in, promise):
    url = reverse("commitments:customer_edit", args=[promise.customer_id])
    refused = signed_in.post(url, {"name": "Dana", "email": "", "preferred_channel": "email", "timezone": "UTC"})
    assert refused.status_code == 400
    assert errors_beside(refused, "id_email") == "An email address is needed to reach this customer by email."

    done = signed_in.post(
        url,
        {
            "name": "Dana Whitfield",
            "email": "dana@example.com",
            "phone": "202 555 0199",
            "preferred_channel": "sms",
            "timezone": "America/New_York",
            "notes": "Prefers texts after 5pm.",
        },
    )
    assert done.status_code == 302
    customer = Customer.objects.get()
    assert (customer.phone, customer.preferred_channel) == ("+12025550199", "sms")


@pytest.mark.parametrize(
    "query",
    ["dana@example.com", "DANA@EXAMPLE", "(202) 555-0123", "+12025550123", "Whitfield", "repair estimate", "CASE-77"],
)
def test_search_finds_by_email_phone_name_summary_or_reference(signed_in, agent, now, query):
    make_commitment(actor=agent, summary="Send the repair estimate", external_ref="CASE-77")
    make_commitment(
        actor=agent, summary="Unrelated", customer=customer_details(name="Eli Park", email="eli@example.com", phone="")
    )

    page = text(signed_in.get(reverse("commitments:search"), {"q": query}))

    assert "1 commitment found" in page
    assert "Send the repair estimate" in page and "Unrelated" not in page


def test_a_search_that_finds_too_much_asks_for_more_words(signed_in, agent, now, monkeypatch):
    monkeypatch.setattr(views, "SEARCH_LIMIT", 2)
    for index in range(3):
        make_commitment(actor=agent, summary=f"Send estimate {index}")

    page = text(signed_in.get(reverse("commitments:search"), {"q": "estimate"}))

    assert "More than 2 commitments found: add a word to narrow it down" in page


def test_long_lists_come_in_pages(signed_in, agent, now, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for hours in (1, 2, 3):
        make_commitment(
            actor=agent, summary=f"Promise due in {hours} h", due_at=now + timedelta(hours=hours, minutes=5)
        )

    first = text(signed_in.get(reverse("commitments:mine")))
    second = text(signed_in.get(reverse("commitments:mine"), {"page": 2}))

    assert "Promise due in 1 h" in first and "Promise due in 2 h" in first and "Page 1 of 2" in first
    assert "Promise due in 3 h" in second and "Promise due in 1 h" not in second
    assert "3 Open" in second  # The figures count the whole list


@pytest.mark.parametrize(("asked", "shown"), [("9", 2), ("0", 2), ("two", 1), ("", 1)])
def test_a_page_that_is_not_there_shows_the_nearest_one(signed_in, agent, now, monkeypatch, asked, shown):
    # Given three promises, two a page
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for hours in (1, 2, 3):
        make_commitment(
            actor=agent, summary=f"Promise due in {hours} h", due_at=now + timedelta(hours=hours, minutes=5)
        )

    # When a page past the end, before the start or not a number is asked for, on either list
    for name in ("commitments:mine", "commitments:team"):
        page = text(signed_in.get(reverse(name), {"page": asked}))

        # Then the last page (past the end or before the start) or the first (not a number) shows
        assert f"Page {shown} of 2" in page
        assert ("Promise due in 3 h" in page) == (shown == 2)
        assert ("Promise due in 1 h" in page) == (shown == 1)
        assert "3 Open" in page


def test_the_team_page_lists_every_open_commitment_of_the_team_overdue_first(signed_in, agent, colleague, now):
    with time_machine.travel(now - timedelta(days=1), tick=False):
        make_commitment(actor=colleague, summary="Sam's late one", due_at=now - timedelta(hours=1))
    make_commitment(actor=agent, summary="Alex's one", due_at=now + timedelta(days=2))
    done = make_commitment(actor=agent, summary="Alex's done one", due_at=now + timedelta(days=2))
    services.fulfil(actor=agent, commitment=done, resolution="Done.")

    page = text(signed_in.get(reverse("commitments:team")))

    assert page.index("Sam's late one") < page.index("Alex's one")
    assert "Alex's done one" not in page
    assert "Home Repairs" in page


def test_a_team_list_row_says_who_has_it_when_it_is_due_for_the_customer_and_how_they_feel(
    signed_in, agent, colleague, now
):
    # Given a promise handed from Alex to Sam, to an upset customer in London, and one waiting on a customer
    handed = make_commitment(
        actor=agent,
        summary="Handed to Sam",
        due_at=now + timedelta(hours=3),
        temperature="upset",
        customer=customer_details(name="Pat London", email="pat@example.com", phone="", timezone="Europe/London"),
    )
    services.hand_off(actor=agent, commitment=handed, assignee=colleague)
    waiting = make_commitment(actor=agent, summary="Needs the serial number", due_at=now + timedelta(days=2))
    with time_machine.travel(now - timedelta(hours=5), tick=False):
        services.wait_on_customer(actor=agent, commitment=waiting, request="Send the serial number, please.")

    # When the agent opens the team list
    page = text(signed_in.get(reverse("commitments:team")))

    # Then each row says who owns it and who does the work, the time in both zones, and the badges
    row = page[page.index("Handed to Sam") : page.index("Needs the serial number")]
    assert "Pat London · Email · Alex Rivera → Sam Okafor" in row
    assert "due in 3 h Mon 24 Nov, 13:00 Mon 18:00 GMT their time" in row
    assert "Upset Open Due soon" in row
    assert "clock paused Waiting on the customer since 5 h ago" in page
    assert "Waiting on customer" in page


def test_a_second_team_appears_as_a_tab(signed_in, agent, now):
    TeamFactory(name="Installations")
    second = Team.objects.get(name="Installations")
    MembershipFactory(user=agent, team=second)
    make_commitment(actor=agent, summary="Install the heater", team=second)

    response = signed_in.get(reverse("commitments:team"), {"team": second.pk})

    assert "Install the heater" in text(response)
    assert 'aria-current="page">Installations' in response.content.decode()


# --- The admin ---------------------------------------------------------------------------------------


def test_operators_read_commitments_and_their_timeline_in_the_admin(client, promise):
    operator = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(operator)

    listing = client.get(reverse("admin:commitments_commitment_changelist"))
    page = client.get(reverse("admin:commitments_commitment_change", args=[promise.pk]))

    assert "Send the repair estimate" in text(listing)
    assert page.status_code == 200
    assert "View commitment" in text(page) and "Logged" in text(page)
    assert client.get(reverse("admin:commitments_commitment_add")).status_code == 403
    assert client.get(reverse("admin:commitments_timelineevent_changelist")).status_code == 200


def test_operators_correct_a_customer_in_the_admin_through_the_same_rules(client, promise):
    operator = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(operator)
    url = reverse("admin:commitments_customer_change", args=[promise.customer_id])
    form = {
        "name": "Dana Whitfield",
        "email": "dana@example.com",
        "phone": "not a phone",
        "preferred_channel": "sms",
        "timezone": "America/New_York",
        "notes": "",
        "commitments-TOTAL_FORMS": "0",
        "commitments-INITIAL_FORMS": "0",
    }

    refused = client.post(url, form)
    assert refused.status_code == 200 and "Enter a valid phone number" in text(refused)

    done = client.post(url, {**form, "phone": "202-555-0177"})
    assert done.status_code == 302
    assert Customer.objects.get().phone == "+12025550177"
    assert TimelineEvent.objects.filter(commitment=promise, kind="preferences").exists()


def test_someone_in_no_team_yet_sees_empty_lists_not_an_error(client, db):
    # Given a new colleague the operator has not yet added to a team
    newcomer = UserFactory(username="noor", first_name="Noor", last_name="Haddad")
    client.force_login(newcomer)

    # When they open their own list and the team list
    mine = client.get(reverse("commitments:mine"))
    team = client.get(reverse("commitments:team"))

    # Then both answer, with nothing listed
    assert mine.status_code == 200
    assert team.status_code == 200
    assert 'class="item ' not in mine.content.decode()
