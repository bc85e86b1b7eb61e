"""The lifecycle moves through the API: each answers with the commitment, or 400/403/404/409."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from commitments import services
from commitments.models import Commitment, TimelineEvent
from notifications.models import Notification
from tests.api.conftest import API, in_future
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def customer_messages(commitment: Commitment) -> list[str]:
    return list(
        Notification.objects.filter(commitment=commitment, audience="customer")
        .order_by("created_at", "pk")
        .values_list("kind", flat=True)
    )


def test_a_status_update_is_sent_now_and_restarts_the_update_clock(api, commitment):
    before = commitment.next_update_at

    response = api.post(
        f"{API}/commitments/{commitment.pk}/updates/",
        {"message": "The parts arrived; the estimate follows tomorrow by noon."},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert datetime.fromisoformat(response.json()["next_update_at"]) > before
    assert customer_messages(commitment) == ["acknowledgement", "status_update"]
    update = Notification.objects.get(commitment=commitment, kind="status_update")
    assert "The parts arrived" in update.body


def test_reschedule_tells_the_customer_the_new_time_and_reason(api, commitment):
    new_due = timezone.now() + timedelta(days=4)

    response = api.post(
        f"{API}/commitments/{commitment.pk}/reschedule/",
        {"due_at": new_due.isoformat(), "reason": "The supplier is a day late."},
        format="json",
    )

    assert response.status_code == 200, response.json()
    commitment.refresh_from_db()
    assert abs(commitment.due_at - new_due) < timedelta(seconds=1)
    assert customer_messages(commitment)[-1] == "reschedule"


def test_hand_off_moves_the_work_and_the_owner_stays(api, agent, colleague, commitment):
    response = api.post(
        f"{API}/commitments/{commitment.pk}/handoff/",
        {"assignee": colleague.pk, "note": "Sam knows the supplier."},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["owner"], response.json()["assignee"]) == (agent.pk, colleague.pk)
    assert Notification.objects.filter(commitment=commitment, audience="staff", recipient_user=colleague).exists()


def test_hand_off_only_to_a_member_of_the_team(api, outsider, commitment):
    for assignee in (outsider.pk, 987654, 2**62):
        response = api.post(f"{API}/commitments/{commitment.pk}/handoff/", {"assignee": assignee}, format="json")
        assert response.status_code == 400
        assert "assignee" in response.json()
    for assignee in ("sam", None, 0, 2**64):
        response = api.post(f"{API}/commitments/{commitment.pk}/handoff/", {"assignee": assignee}, format="json")
        assert response.status_code == 400
        assert "assignee" in response.json()


def test_wait_pauses_the_clock_and_resume_moves_the_due_time(api, commitment):
    waiting = api.post(
        f"{API}/commitments/{commitment.pk}/wait/",
        {"request": "A photo of the label on the water heater."},
        format="json",
    )
    resumed = api.post(f"{API}/commitments/{commitment.pk}/resume/", {"note": "Photo received."}, format="json")

    assert waiting.status_code == 200, waiting.json()
    assert waiting.json()["status"] == "waiting"
    assert waiting.json()["waiting_request"] == "A photo of the label on the water heater."
    assert resumed.status_code == 200, resumed.json()
    assert resumed.json()["status"] == "open"
    assert datetime.fromisoformat(resumed.json()["due_at"]) >= datetime.fromisoformat(waiting.json()["due_at"])
    assert customer_messages(commitment) == ["acknowledgement", "waiting", "reschedule"]


def test_fulfil_tells_the_customer_and_plans_the_satisfaction_check(api, commitment):
    response = api.post(
        f"{API}/commitments/{commitment.pk}/fulfil/", {"resolution": "The estimate is in your inbox."}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "fulfilled"
    assert response.json()["fulfilled_at"] is not None
    assert response.json()["resolution"] == "The estimate is in your inbox."
    commitment.refresh_from_db()
    assert commitment.satisfaction_due_at is not None
    assert customer_messages(commitment)[-1] == "resolution"


def test_a_chase_is_recorded_on_the_timeline(api, commitment):
    response = api.post(
        f"{API}/commitments/{commitment.pk}/chased/", {"channel": "phone", "note": "Called to ask."}, format="json"
    )

    assert response.status_code == 200, response.json()
    chase = commitment.events.get(kind=TimelineEvent.Kind.CHASED)
    assert (chase.data, chase.message) == ({"channel": "phone"}, "Called to ask.")


def test_cancel_suppresses_what_is_unsent_and_tells_the_customer(api, commitment):
    response = api.post(f"{API}/commitments/{commitment.pk}/cancel/", {"reason": "Customer withdrew."}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"
    assert Notification.objects.get(commitment=commitment, kind="acknowledgement").status == "suppressed"
    assert customer_messages(commitment)[-1] == "cancellation"


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("updates", {"message": ""}, "message"),
        ("updates", {}, "message"),
        ("reschedule", {"due_at": "2020-01-01T00:00:00Z", "reason": ""}, "due_at"),
        ("reschedule", {"due_at": "2030-01-01T00:00:00", "reason": "late"}, "due_at"),
        ("fulfil", {"resolution": "   "}, "resolution"),
        ("chased", {"channel": "pigeon"}, "channel"),
        ("wait", {"request": ""}, "request"),
        ("wait", {"request": ["a photo"]}, "request"),
        ("cancel", {"reason": "x" * 5001}, "reason"),
    ],
)
def test_a_bad_action_body_is_a_400_and_changes_nothing(api, commitment, action, body, field):
    events = commitment.events.count()

    response = api.post(f"{API}/commitments/{commitment.pk}/{action}/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    commitment.refresh_from_db()
    assert commitment.status == "open"
    assert commitment.events.count() == events


def test_reschedule_names_both_bad_fields_at_once(api, commitment):
    response = api.post(
        f"{API}/commitments/{commitment.pk}/reschedule/",
        {"due_at": "2020-01-01T00:00:00Z", "reason": ""},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"due_at", "reason"}


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("updates", {"message": "Still on it."}),
        ("reschedule", {"due_at": in_future(days=5), "reason": "Late parts."}),
        ("fulfil", {"resolution": "Done."}),
        ("wait", {"request": "A photo."}),
        ("resume", {}),
        ("cancel", {}),
        ("handoff", {"assignee": None}),
    ],
)
def test_a_move_the_status_does_not_allow_is_a_409_and_changes_nothing(api, agent, colleague, commitment, action, body):
    # Given the commitment was cancelled
    services.cancel(actor=agent, commitment=commitment, reason="Withdrawn.")
    if action == "handoff":
        body = {"assignee": colleague.pk}
    events = commitment.events.count()

    response = api.post(f"{API}/commitments/{commitment.pk}/{action}/", body, format="json")

    assert response.status_code == 409, response.json()
    assert "cancelled" in response.json()["detail"]
    commitment.refresh_from_db()
    assert commitment.status == "cancelled"
    assert commitment.events.count() == events


def test_resume_while_open_and_edit_once_cancelled_are_409(api, agent, commitment):
    assert api.post(f"{API}/commitments/{commitment.pk}/resume/", {}, format="json").status_code == 409
    services.cancel(actor=agent, commitment=commitment)
    assert api.patch(f"{API}/commitments/{commitment.pk}/", {"summary": "x"}, format="json").status_code == 409


def test_an_agent_may_not_act_on_a_teammates_commitment_but_a_lead_may(api_as, colleague, lead, commitment):
    # Given sam is an agent of the team who neither owns nor holds alex's commitment
    sam, lee = api_as(colleague), api_as(lead)

    # Then sam may read it and record a chase, but not change it
    assert sam.get(f"{API}/commitments/{commitment.pk}/").status_code == 200
    refused = sam.post(f"{API}/commitments/{commitment.pk}/fulfil/", {"resolution": "Done."}, format="json")
    assert refused.status_code == 403
    assert "detail" in refused.json()
    assert sam.patch(f"{API}/commitments/{commitment.pk}/", {"summary": "x"}, format="json").status_code == 403
    assert (
        sam.post(f"{API}/commitments/{commitment.pk}/chased/", {"channel": "email"}, format="json").status_code == 200
    )

    # And the team lead may
    assert (
        lee.post(f"{API}/commitments/{commitment.pk}/fulfil/", {"resolution": "Done."}, format="json").status_code
        == 200
    )


def test_the_assignee_may_act_once_the_work_is_handed_to_them(api, api_as, colleague, commitment):
    api.post(f"{API}/commitments/{commitment.pk}/handoff/", {"assignee": colleague.pk}, format="json")

    response = api_as(colleague).post(
        f"{API}/commitments/{commitment.pk}/updates/", {"message": "Sam here, on it."}, format="json"
    )

    assert response.status_code == 201


def test_another_team_gets_404_for_every_move(api_as, outsider, commitment):
    theirs = api_as(outsider)

    for action in ("updates", "reschedule", "handoff", "fulfil", "chased", "wait", "resume", "cancel"):
        assert theirs.post(f"{API}/commitments/{commitment.pk}/{action}/", {}, format="json").status_code == 404


# --- Timeline, notifications, teams ---------------------------------------------------------


def test_the_timeline_lists_every_event_oldest_first(api, agent, commitment):
    api.post(f"{API}/commitments/{commitment.pk}/updates/", {"message": "On it."}, format="json")
    api.post(f"{API}/commitments/{commitment.pk}/chased/", {"channel": "email"}, format="json")

    response = api.get(f"{API}/commitments/{commitment.pk}/timeline/")

    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 3
    assert [event["kind"] for event in page["results"]] == ["created", "update_sent", "chased"]
    first = page["results"][0]
    assert set(first) == {"id", "kind", "actor", "actor_name", "message", "data", "created_at"}
    assert (first["actor"], first["actor_name"], first["message"]) == (agent.pk, "Alex Rivera", commitment.summary)


def test_notifications_list_every_message_made_for_a_commitment(api, agent, lead, commitment):
    other = services.create_commitment(
        actor=agent,
        customer=services.CustomerDetails(name="Eli", email="eli@example.com"),
        summary="Another",
        due_at=timezone.now() + timedelta(days=1),
    )
    api.post(f"{API}/commitments/{commitment.pk}/fulfil/", {"resolution": "Done."}, format="json")

    response = api.get(f"{API}/notifications/", {"commitment": commitment.pk})

    assert response.status_code == 200
    page = response.json()
    assert [row["kind"] for row in page["results"]] == ["acknowledgement", "resolution"]
    ack = page["results"][0]
    assert {
        "id",
        "commitment",
        "kind",
        "channel",
        "recipient",
        "audience",
        "status",
        "scheduled_for",
        "sent_at",
        "attempts",
        "last_error",
        "idempotency_key",
    } <= set(ack)
    assert (ack["commitment"], ack["channel"], ack["recipient"], ack["audience"], ack["status"]) == (
        commitment.pk,
        "email",
        "dana@example.com",
        "customer",
        "pending",
    )
    assert api.get(f"{API}/notifications/").json()["count"] == 3
    assert api.get(f"{API}/notifications/", {"commitment": other.pk, "kind": "acknowledgement"}).json()["count"] == 1


def test_another_teams_messages_are_not_listed(api_as, outsider, commitment):
    response = api_as(outsider).get(f"{API}/notifications/", {"commitment": commitment.pk})

    assert response.status_code == 404
    assert "No such commitment" in response.json()["detail"]
    assert api_as(outsider).get(f"{API}/notifications/").json()["count"] == 0


def test_teams_list_the_callers_teams_with_members_and_roles(api, agent, colleague, lead, team, outsider):
    inactive = UserFactory(username="zed", is_active=False)
    MembershipFactory(user=inactive, team=team)

    response = api.get(f"{API}/teams/")

    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert response.json()["results"] == [
        {
            "id": team.pk,
            "name": "Home Repairs",
            "timezone": "America/New_York",
            "members": [
                {"id": agent.pk, "username": "alex", "name": "Alex Rivera", "role": "agent"},
                {"id": lead.pk, "username": "lee", "name": "Lee Chen", "role": "lead"},
                {"id": colleague.pk, "username": "sam", "name": "Sam Okafor", "role": "agent"},
            ],
        }
    ]
