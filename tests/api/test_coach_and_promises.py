"""The coach, honest promises and the customer's temperature through the API, as an integrator uses them."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from commitments.models import Commitment, GlossaryTerm, TimelineEvent
from notifications.models import Notification
from tests.api.conftest import API, in_future, new_commitment_body
from tests.factories import customer_details, make_commitment

pytestmark = pytest.mark.django_db


def test_the_coach_answers_warnings_with_offsets_segments_and_encoding(api, commitment, team):
    GlossaryTerm.objects.create(team=team, term="RMA", plain="return number")
    text = "Sorry if the RMA was confusing. Maybe it ships today. You will hear from us in 3 days."

    response = api.post(f"{API}/coach/", {"text": text, "commitment": commitment.pk}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert [(w["kind"], w["text"]) for w in body["warnings"]] == [
        ("conditional_apology", "Sorry if"),
        ("jargon", "RMA"),
        ("hedging", "Maybe"),
        ("late_next_contact", "in 3 days"),
    ]
    for warning in body["warnings"]:
        assert text[warning["start"] : warning["end"]] == warning["text"]
        assert warning["suggestion"]
    assert "return number" in body["warnings"][1]["suggestion"]
    assert (body["sms_segments"], body["encoding"]) == (1, "GSM-7")


def test_a_plain_complete_update_gets_no_warning(api, commitment):
    text = "The part is ordered and arrives Thursday. Next update in 4 hours, sooner if it ships early."

    body = api.post(f"{API}/coach/", {"text": text, "commitment": commitment.pk}, format="json").json()

    assert body["warnings"] == []


def test_the_coach_without_a_commitment_counts_segments_and_flags_a_missing_next_contact(api):
    text = "La pieza está pedida y el técnico viene el jueves por la tarde."  # á is not in GSM-7

    body = api.post(f"{API}/coach/", {"text": text, "channel": "sms"}, format="json").json()

    assert [w["kind"] for w in body["warnings"]] == ["no_next_contact"]
    assert (body["encoding"], body["sms_segments"]) == ("UCS-2", 1)


def test_an_emoji_makes_the_text_ucs2_and_shortens_its_segments(api):
    body = api.post(f"{API}/coach/", {"text": "Done 👍 Next update today. " * 3}, format="json").json()

    assert body["encoding"] == "UCS-2"
    assert body["sms_segments"] == 2


def test_the_coach_refuses_another_teams_commitment_and_bad_input_by_field(api, outsider):
    theirs = make_commitment(actor=outsider, customer=customer_details(email="o@example.com", phone=""))

    other = api.post(f"{API}/coach/", {"text": "Hi", "commitment": theirs.pk}, format="json")
    no_text = api.post(f"{API}/coach/", {"commitment": None}, format="json")
    number = api.post(f"{API}/coach/", {"text": 12}, format="json")
    anonymous = APIClient().post(f"{API}/coach/", {"text": "Hi"}, format="json")

    assert other.status_code == 400 and "commitment" in other.json()
    assert no_text.status_code == 400 and "text" in no_text.json()
    assert number.status_code == 400 and "text" in number.json()
    assert anonymous.status_code == 401


def test_an_update_can_be_sent_in_parts_and_sets_when_the_customer_hears_next(api, commitment):
    next_contact = timezone.now() + timedelta(hours=5)

    response = api.post(
        f"{API}/commitments/{commitment.pk}/updates/",
        {
            "done": "The technician measured the boiler",
            "next_step": "We order the part today",
            "not_known": "The exact price: the supplier confirms it by noon",
            "next_contact_at": next_contact.isoformat(),
        },
        format="json",
    )

    assert response.status_code == 201
    event = TimelineEvent.objects.get(commitment=commitment, kind="update_sent")
    assert event.message == (
        "The technician measured the boiler.\n\nWe order the part today.\n\n"
        "The exact price: the supplier confirms it by noon."
    )
    update = Notification.objects.get(commitment=commitment, kind="status_update")
    assert "The technician measured the boiler." in update.body
    next_update = Commitment.objects.get(pk=commitment.pk).next_update_at
    assert next_update is not None and abs(next_update - next_contact) < timedelta(seconds=1)


def test_an_update_with_nothing_in_it_is_refused_on_message(api, commitment):
    response = api.post(f"{API}/commitments/{commitment.pk}/updates/", {}, format="json")

    assert response.status_code == 400
    assert response.json() == {"message": ["Write the update for the customer."]}


def test_logging_with_only_the_owners_target_promises_the_target_plus_the_teams_buffer(api, team):
    team.default_promise_buffer = timedelta(hours=2)
    team.save()
    # Logged on a Tuesday afternoon: target and buffer end inside the team's working hours (on a
    # Friday afternoon the promise would move to Monday morning, rightly)
    with time_machine.travel(datetime(2026, 3, 3, 14, tzinfo=UTC), tick=False):
        target = timezone.now() + timedelta(days=1)
        body = new_commitment_body(target_at=target.isoformat())
        del body["due_at"]

        response = api.post(f"{API}/commitments/", body, format="json")

    assert response.status_code == 201, response.json()
    created = response.json()
    commitment = Commitment.objects.get(pk=created["id"])
    assert commitment.target_at == target
    assert timedelta(hours=2) <= commitment.due_at - target < timedelta(hours=2, minutes=15)


def test_neither_a_due_time_nor_a_target_is_a_400_on_due_at(api):
    body = new_commitment_body()
    del body["due_at"]

    response = api.post(f"{API}/commitments/", body, format="json")

    assert response.status_code == 400
    assert "due_at" in response.json()
    assert not Commitment.objects.exists()


def test_an_upset_customer_gets_the_teams_shorter_interval(api, agent, team):
    team.upset_update_interval = timedelta(hours=2)
    team.save()
    calm = api.post(f"{API}/commitments/", new_commitment_body(due_at=in_future(hours=5)), format="json").json()
    assert "temperature" in calm, calm
    body = new_commitment_body(temperature="upset", due_at=in_future(days=3), update_interval="24h")
    body["customer"] = {**body["customer"], "email": "upset@example.com", "phone": "", "preferred_channel": "email"}
    upset = api.post(f"{API}/commitments/", body, format="json").json()
    assert "temperature" in upset, upset

    assert (calm["temperature"], upset["temperature"]) == ("calm", "upset")
    assert upset["update_interval"] == "2h"
    assert calm["update_interval"] == "4h"


def test_marking_a_customer_upset_shortens_the_interval_and_is_on_the_timeline(api, commitment, team):
    team.upset_update_interval = timedelta(hours=3)
    team.save()

    response = api.patch(f"{API}/commitments/{commitment.pk}/", {"temperature": "upset"}, format="json")

    assert response.status_code == 200
    assert (response.json()["temperature"], response.json()["update_interval"]) == ("upset", "3h")
    next_update = Commitment.objects.get(pk=commitment.pk).next_update_at
    assert next_update is not None and next_update <= timezone.now() + timedelta(hours=3)
    edited = TimelineEvent.objects.get(commitment=commitment, kind="edited")
    assert edited.data["changes"]["temperature"] == ["calm", "upset"]


def test_an_unknown_temperature_is_a_400_on_temperature(api, commitment):
    response = api.patch(f"{API}/commitments/{commitment.pk}/", {"temperature": "furious"}, format="json")

    assert response.status_code == 400 and "temperature" in response.json()
