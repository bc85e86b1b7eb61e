"""Logging, reading, listing and editing commitments through the API."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Team
from commitments.models import Commitment, Customer, TimelineEvent
from notifications.models import Notification
from tests.api.conftest import API, in_future, new_commitment_body
from tests.factories import MembershipFactory, customer_details, make_commitment

pytestmark = pytest.mark.django_db


def written_rows() -> tuple[int, int, int, int]:
    return (
        Customer.objects.count(),
        Commitment.objects.count(),
        TimelineEvent.objects.count(),
        Notification.objects.count(),
    )


# --- Create ---------------------------------------------------------------------------------


def test_an_agent_logs_a_promise_and_gets_the_whole_commitment_back(api, agent, team):
    # Given a customer who prefers texts, written with a national number and a mixed-case email
    body = new_commitment_body()

    # When the agent logs the promise
    response = api.post(f"{API}/commitments/", body, format="json")

    # Then it is created for them, in their only team, with the contact details normalized
    assert response.status_code == 201, response.json()
    commitment = response.json()
    assert commitment["status"] == "open"
    assert commitment["owner"] == agent.pk
    assert commitment["assignee"] == agent.pk
    assert commitment["team"] == team.pk
    assert commitment["summary"] == "Send the repair estimate"
    assert commitment["details"] == "Estimate for the water heater replacement."
    assert commitment["external_ref"] == "TICKET-4411"
    assert commitment["update_interval"] == "4h"
    assert commitment["is_overdue"] is False
    assert commitment["customer"] == {
        "id": Customer.objects.get().pk,
        "name": "Dana Whitfield",
        "email": "dana@example.com",
        "phone": "+15555550123",
        "preferred_channel": "sms",
        "timezone": "America/New_York",
        "language": "en",
        "sms_opted_out": False,
    }
    assert commitment["status_url"].startswith("http://127.0.0.1:8000/s/")
    for moment in ("due_at", "next_update_at", "last_update_at", "created_at"):
        assert commitment[moment] is not None
    assert commitment["fulfilled_at"] is None
    # And the customer is acknowledged by text at once
    acknowledgement = Notification.objects.get(commitment_id=commitment["id"])
    assert (acknowledgement.kind, acknowledgement.channel, acknowledgement.recipient) == (
        "acknowledgement",
        "sms",
        "+15555550123",
    )


def test_the_same_customer_is_found_again_by_email_or_phone_and_never_duplicated(api):
    # Given Dana already has a commitment
    first = api.post(f"{API}/commitments/", new_commitment_body(), format="json").json()

    # When another promise is logged with her email in capitals, and a third with only her phone
    by_email = new_commitment_body(customer={"name": "Dana W.", "email": " DANA@EXAMPLE.COM ", "timezone": "UTC"})
    by_phone = new_commitment_body(
        customer={"name": "Dana Whitfield", "phone": "+1 555 555 0123", "preferred_channel": "sms"}
    )
    second = api.post(f"{API}/commitments/", by_email, format="json").json()
    third = api.post(f"{API}/commitments/", by_phone, format="json").json()

    # Then all three are promises to the one customer
    assert first["customer"]["id"] == second["customer"]["id"] == third["customer"]["id"]
    assert Customer.objects.count() == 1


def test_the_update_interval_defaults_to_the_setting_and_the_owner_may_be_a_teammate(api, colleague, settings):
    settings.FOLLOWTHROUGH_UPDATE_INTERVAL = timedelta(hours=24)
    body = new_commitment_body(owner=colleague.pk)
    del body["update_interval"]

    response = api.post(f"{API}/commitments/", body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["update_interval"] == "24h"
    assert response.json()["owner"] == colleague.pk


def test_an_owner_in_several_teams_must_say_which_team(api, agent, team):
    # Given alex is also in Billing
    billing = Team.objects.create(name="Billing")
    MembershipFactory(user=agent, team=billing)

    # When he logs a promise without a team, then with one
    without = api.post(f"{API}/commitments/", new_commitment_body(), format="json")
    with_team = api.post(f"{API}/commitments/", new_commitment_body(team=billing.pk), format="json")

    # Then the first is refused on the team field, the second belongs to Billing
    assert without.status_code == 400
    assert "team" in without.json()
    assert with_team.status_code == 201
    assert with_team.json()["team"] == billing.pk


def test_a_bad_create_names_every_offending_field_nested_as_the_body_and_writes_nothing(api):
    # Given one good commitment already exists
    api.post(f"{API}/commitments/", new_commitment_body(), format="json")
    before = written_rows()

    # When a promise comes in with a texting customer without a number and a due time in the past
    body = new_commitment_body(
        customer={"name": "Pat Doe", "email": "pat@example.com", "preferred_channel": "sms", "timezone": "Mars/Base"},
        due_at=(timezone.now() - timedelta(hours=1)).isoformat(),
        update_interval="2s",
    )
    response = api.post(f"{API}/commitments/", body, format="json")

    # Then every field is named where it sits in the body, and nothing was written
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"customer", "due_at", "update_interval"}
    assert set(errors["customer"]) == {"phone", "timezone"}
    assert all(isinstance(message, str) for message in errors["customer"]["phone"])
    assert written_rows() == before
    assert not Customer.objects.filter(email="pat@example.com").exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"customer": {"name": "Pat", "phone": "12", "preferred_channel": "sms"}}, ("customer", "phone")),
        ({"customer": {"name": "Pat", "email": "not-an-address"}}, ("customer", "email")),
        (
            {"customer": {"name": "Pat", "email": "pat@example.com", "preferred_channel": "fax"}},
            ("customer", "preferred_channel"),
        ),
        ({"customer": {"name": "", "email": "pat@example.com"}}, ("customer", "name")),
        ({"customer": "Pat"}, ("customer", "non_field_errors")),
        ({"customer": None}, ("customer",)),
        ({"summary": ""}, ("summary",)),
        ({"summary": "x" * 301}, ("summary",)),
        ({"summary": None}, ("summary",)),
        ({"summary": "nul\x00byte"}, ("summary",)),
        ({"details": "x" * 5001}, ("details",)),
        ({"due_at": "2030-01-01T10:00:00"}, ("due_at",)),
        ({"due_at": "tomorrow"}, ("due_at",)),
        ({"due_at": 1234}, ("due_at",)),
        ({"due_at": "9999-12-31T23:59:59-14:00"}, ("due_at",)),
        ({"due_at": "0001-01-01T00:00:00+14:00"}, ("due_at",)),
        ({"due_at": "9999-12-31T23:00:00Z"}, ("due_at",)),
        ({"update_interval": "soon"}, ("update_interval",)),
        ({"update_interval": "99999999999999999d"}, ("update_interval",)),
        ({"update_interval": True}, ("update_interval",)),
        ({"update_interval": "45d"}, ("update_interval",)),
        ({"owner": "abc"}, ("owner",)),
        ({"owner": 10**30}, ("owner",)),
        ({"owner": 987654}, ("owner",)),
        ({"team": -1}, ("team",)),
        ({"external_ref": ["a"]}, ("external_ref",)),
        ({"target_at": in_future(days=3)}, ("target_at",)),
    ],
)
def test_no_input_breaks_the_api_each_is_a_400_on_its_field(api, change, field):
    body = new_commitment_body(**change)

    response = api.post(f"{API}/commitments/", body, format="json")

    assert response.status_code == 400, response.content
    errors = response.json()
    for key in field:
        assert key in errors, errors
        errors = errors[key]
    assert Commitment.objects.count() == 0
    assert Customer.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "answer"),
    [
        # The team is read with the caller's memberships, not looked up on its own; the answer is
        # still the one a look-up of the field gives, alone or beside the other fields' errors.
        ({"team": 987654}, {"team": ['Invalid pk "987654" - object does not exist.']}),
        ({"team": "987654"}, {"team": ['Invalid pk "987654" - object does not exist.']}),
        ({"team": 10**30}, {"team": [f'Invalid pk "{10**30}" - object does not exist.']}),
        ({"team": "abc"}, {"team": ["Incorrect type. Expected pk value, received str."]}),
        ({"team": [1]}, {"team": ["Incorrect type. Expected pk value, received list."]}),
        (
            {"summary": None, "team": 987654, "update_interval": "soon"},
            {
                "summary": ["This field may not be null."],
                "team": ['Invalid pk "987654" - object does not exist.'],
                "update_interval": ["Write a duration such as 90s, 15m, 4h or 2d."],
            },
        ),
    ],
)
def test_a_team_that_does_not_exist_is_named_as_the_field_names_it(api, change, answer):
    response = api.post(f"{API}/commitments/", new_commitment_body(**change), format="json")

    assert response.status_code == 400
    assert response.json() == answer
    assert list(response.json()) == list(answer)
    assert written_rows() == (0, 0, 0, 0)


def test_a_team_id_too_big_for_a_number_is_a_400_on_the_team(api):
    # 1e400 is valid JSON, read as infinity: no id at all
    body = json.dumps(new_commitment_body(team=0)).replace('"team": 0', '"team": 1e400')

    response = api.post(f"{API}/commitments/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"team": ["Incorrect type. Expected pk value, received float."]}


def test_a_team_given_by_a_string_id_is_that_team(api, agent, team):
    response = api.post(f"{API}/commitments/", new_commitment_body(team=str(team.pk)), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["team"] == team.pk


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[]", "application/json"),
        (b"null", "application/json"),
        (b'"text"', "application/json"),
        (b"[" * 100_000, "application/json"),
        (b'{"summary": NaN}', "application/json"),
        (b"\xff\xfe", "application/json"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_400(api, content, content_type):
    response = api.generic("POST", f"{API}/commitments/", content, content_type=content_type)

    assert response.status_code == 400
    assert isinstance(response.json(), dict)


def test_a_body_in_another_format_is_a_415(api):
    response = api.post(f"{API}/commitments/", "summary=x", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert "detail" in response.json()


def test_an_agent_cannot_log_a_promise_for_another_team_or_its_people(api, outsider):
    other_team = outsider.teams.get()

    for_their_team = api.post(f"{API}/commitments/", new_commitment_body(team=other_team.pk), format="json")
    for_their_agent = api.post(f"{API}/commitments/", new_commitment_body(owner=outsider.pk), format="json")

    assert for_their_team.status_code == 400
    assert "team" in for_their_team.json()
    assert for_their_agent.status_code == 400
    assert "owner" in for_their_agent.json()
    assert Commitment.objects.count() == 0


# --- Read -----------------------------------------------------------------------------------


def test_a_commitment_reads_back_as_it_was_logged(api, commitment):
    response = api.get(f"{API}/commitments/{commitment.pk}/")

    assert response.status_code == 200
    shown = response.json()
    assert shown["id"] == commitment.pk
    assert shown["summary"] == "Send the repair estimate"
    assert shown["customer"]["email"] == "dana@example.com"
    assert shown["status_url"] == commitment.status_url


def test_another_teams_commitment_does_not_exist_for_you(api_as, outsider, commitment):
    theirs = api_as(outsider)

    assert theirs.get(f"{API}/commitments/{commitment.pk}/").status_code == 404
    assert theirs.patch(f"{API}/commitments/{commitment.pk}/", {"summary": "x"}, format="json").status_code == 404
    assert theirs.get(f"{API}/commitments/{commitment.pk}/timeline/").status_code == 404
    assert theirs.get(f"{API}/commitments/").json()["count"] == 0
    assert theirs.get(f"{API}/commitments/", {"team": commitment.team_id}).json()["count"] == 0


def test_unknown_ids_and_addresses_answer_404_in_json(api):
    for path in (
        "commitments/999999/",
        "commitments/99999999999999999999999/",
        "commitments/abc/",
        "commitments/%0A1/timeline/",
        "nothing/",
    ):
        response = api.get(f"{API}/{path}")
        assert response.status_code == 404, path
        assert "detail" in response.json()
    assert (
        "trailing slash" in api.get(f"{API}/commitments").json()["detail"]
        or "slash" in api.get(f"{API}/commitments").json()["detail"]
    )


def test_a_superuser_sees_every_team(api_as, commitment, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-for-root-1234")

    response = api_as(admin).get(f"{API}/commitments/{commitment.pk}/")

    assert response.status_code == 200


# --- List and filters -----------------------------------------------------------------------


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_the_list_is_paginated_soonest_due_first_with_a_stable_order(api, agent):
    due = timezone.now() + timedelta(days=3)
    made = [
        make_commitment(actor=agent, due_at=due, customer=customer_details(email=f"c{n}@example.com", phone=""))
        for n in range(3)
    ]
    sooner = make_commitment(
        actor=agent, due_at=due - timedelta(days=1), customer=customer_details(email="soon@example.com", phone="")
    )

    first = api.get(f"{API}/commitments/", {"page_size": 2})
    second = api.get(first.json()["next"])

    assert first.json()["count"] == 4
    assert first.json()["previous"] is None
    assert set(first.json()) == {"count", "next", "previous", "results"}
    assert ids(first) + ids(second) == [sooner.pk, *[c.pk for c in made]]
    assert second.json()["next"] is None
    assert api.get(f"{API}/commitments/", {"page": 99}).status_code == 404


@pytest.fixture
def three_promises(agent, colleague, lead):
    """Dana's open one (alex, due in 2 days), Eli's handed to sam (due in 2 hours), Fay's fulfilled."""
    dana = make_commitment(actor=agent, external_ref="CASE-1")
    eli = make_commitment(
        actor=agent,
        summary="Call back about the invoice",
        due_at=timezone.now() + timedelta(hours=2),
        customer=customer_details(name="Eli Stone", email="eli@example.com", phone="+15555550142"),
    )
    from commitments import services

    services.hand_off(actor=agent, commitment=eli, assignee=colleague)
    fay = make_commitment(
        actor=colleague,
        summary="Replace the filter",
        customer=customer_details(name="Fay Lin", email="fay@example.com", phone=""),
    )
    services.fulfil(actor=colleague, commitment=fay, resolution="Replaced.")
    return dana, eli, fay


def test_filters_narrow_the_list(api, agent, colleague, team, three_promises):
    dana, eli, fay = three_promises
    get = lambda **params: set(ids(api.get(f"{API}/commitments/", params)))  # noqa: E731

    assert get(status="open") == {dana.pk, eli.pk}
    assert get(status=["fulfilled", "open"]) == {dana.pk, eli.pk, fay.pk}
    assert get(owner=colleague.pk) == {fay.pk}
    assert get(assignee=colleague.pk) == {eli.pk, fay.pk}
    assert get(team=team.pk) == {dana.pk, eli.pk, fay.pk}
    assert get(customer="ELI@example.com") == {eli.pk}
    assert get(customer="(555) 555-0142") == {eli.pk}
    assert get(customer="nobody") == set()
    assert get(q="invoice") == {eli.pk}
    assert get(q="fay lin") == {fay.pk}
    assert get(q="CASE-1") == {dana.pk}
    assert get(q="555-0142") == {eli.pk}
    assert get(external_ref="CASE-1") == {dana.pk}
    assert get(due_before=in_future(days=1)) == {eli.pk}
    assert get(due_after=in_future(days=1)) == {dana.pk, fay.pk}
    assert get(at_risk="true") == {eli.pk}
    assert get(at_risk="false") == {dana.pk, fay.pk}
    assert get(overdue="true") == set()


def test_overdue_lists_what_is_still_owed_past_its_due_time(api, three_promises):
    _, eli, _ = three_promises

    with time_machine.travel(timezone.now() + timedelta(hours=3)):
        overdue = set(ids(api.get(f"{API}/commitments/", {"overdue": "true"})))
        shown = api.get(f"{API}/commitments/{eli.pk}/").json()

    assert overdue == {eli.pk}
    assert shown["is_overdue"] is True


@pytest.mark.parametrize(
    "params",
    [
        {"status": "lost"},
        {"owner": "me"},
        {"team": "1.5"},
        {"owner": str(2**64)},
        {"due_before": "soon"},
        {"q": "x" * 201},
        {"q": "nul\x00"},
        {"overdue": "maybe"},
        {"owner": ""},
        {"stauts": "open"},
        {"page_size": "0"},
        {"page_size": "500"},
        {"page": "first"},
        {"due_before": "9999-12-31T23:00:00-05:00"},
    ],
)
def test_a_bad_filter_is_a_400_naming_it(api, params):
    response = api.get(f"{API}/commitments/", params)

    assert response.status_code == 400
    assert set(response.json()) == set(params)


# --- Edit -----------------------------------------------------------------------------------


def test_the_owner_edits_what_was_promised_and_the_cadence(api, commitment):
    response = api.patch(
        f"{API}/commitments/{commitment.pk}/",
        {"summary": "Send the revised estimate", "details": "", "update_interval": "12h"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    shown = response.json()
    assert (shown["summary"], shown["details"], shown["update_interval"]) == ("Send the revised estimate", "", "12h")
    assert commitment.events.filter(kind="edited").count() == 1


def test_the_internal_target_is_set_and_cleared(api, commitment):
    target = (commitment.due_at - timedelta(hours=6)).isoformat()

    set_ = api.patch(f"{API}/commitments/{commitment.pk}/", {"target_at": target}, format="json")
    cleared = api.patch(f"{API}/commitments/{commitment.pk}/", {"target_at": None}, format="json")

    assert set_.status_code == 200, set_.json()
    assert set_.json()["target_at"] is not None
    assert cleared.json()["target_at"] is None


def test_a_bad_edit_is_a_400_and_changes_nothing(api, commitment):
    response = api.patch(f"{API}/commitments/{commitment.pk}/", {"summary": "", "update_interval": "1s"}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"summary", "update_interval"}
    commitment.refresh_from_db()
    assert commitment.summary == "Send the repair estimate"


def test_put_is_not_offered(api, commitment):
    response = api.put(f"{API}/commitments/{commitment.pk}/", {"summary": "x"}, format="json")

    assert response.status_code == 405
    assert "PATCH" in response["Allow"]


def test_a_page_of_commitments_costs_the_same_few_queries_however_long(api, agent, django_assert_max_num_queries):
    # Given twenty commitments to twenty customers
    for n in range(20):
        make_commitment(actor=agent, customer=customer_details(email=f"c{n}@example.com", phone=""))

    # Then the list reads them in a handful of queries, not one or more per commitment
    with django_assert_max_num_queries(6):
        response = api.get(f"{API}/commitments/")

    assert response.json()["count"] == 20


def test_a_time_filter_with_an_offset_postgresql_cannot_store_still_answers(api, commitment):
    # Python reads offsets up to ±23:59, PostgreSQL only up to ±15:59.
    response = api.get(f"{API}/commitments/", {"due_before": "2999-11-13T04:52:48+19:31"})

    assert response.status_code == 200
    assert ids(response) == [commitment.pk]
