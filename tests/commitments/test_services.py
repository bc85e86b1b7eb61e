"""The lifecycle rules, one service per use case, on PostgreSQL: what each writes, refuses and sends."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Team
from commitments import services
from commitments.errors import IllegalMove, InvalidInput, NotAllowed
from commitments.models import Commitment, Customer, Status, TimelineEvent
from notifications.models import Notification
from tests.factories import MembershipFactory, TeamFactory, customer_details, make_commitment

pytestmark = pytest.mark.django_db


def timeline(commitment: Commitment) -> list[str]:
    return list(TimelineEvent.objects.filter(commitment=commitment).values_list("kind", flat=True))


def outbox(commitment: Commitment) -> list[tuple[str, str, str, str]]:
    """Every message made for the commitment: (kind, audience, channel, recipient), oldest first."""
    return list(
        Notification.objects.filter(commitment=commitment).values_list("kind", "audience", "channel", "recipient")
    )


def nothing_saved() -> bool:
    return not (
        Customer.objects.exists()
        or Commitment.objects.exists()
        or TimelineEvent.objects.exists()
        or Notification.objects.exists()
    )


@pytest.fixture
def promise(agent, now):
    return make_commitment(actor=agent, due_at=now + timedelta(days=2))


def snapshot(commitment: Commitment) -> dict:
    """Everything a refused move must leave as it was."""
    row = {key: value for key, value in Commitment.objects.values().get(pk=commitment.pk).items()}
    row.pop("updated_at")
    return {
        "row": row,
        "events": TimelineEvent.objects.filter(commitment=commitment).count(),
        "messages": list(Notification.objects.filter(commitment=commitment).values_list("pk", "status")),
    }


# --- Logging a promise -----------------------------------------------------------------------


def test_logging_a_promise_acknowledges_the_customer_and_starts_the_clock(agent, now):
    # When an agent logs a promise to a new customer
    commitment = make_commitment(actor=agent, summary="Send the repair estimate", due_at=now + timedelta(days=2))

    # Then it is open, owned and worked by the agent, in the agent's team, with the update clock running
    commitment.refresh_from_db()
    assert commitment.status == Status.OPEN
    assert commitment.owner == agent and commitment.assignee == agent and commitment.created_by == agent
    assert commitment.team.name == "Home Repairs"
    assert commitment.last_update_at == now
    assert commitment.next_update_at == now + timedelta(hours=24)
    assert commitment.next_escalation_at == now + timedelta(days=2) - timedelta(hours=24)
    # And the customer is saved with normalized contact details
    assert (commitment.customer.email, commitment.customer.phone) == ("dana@example.com", "+12025550123")
    # And the timeline says who logged it, and the customer's acknowledgement waits in the outbox
    event = commitment.events.get()
    assert (event.kind, event.actor, event.message) == ("created", agent, "Send the repair estimate")
    assert outbox(commitment) == [("acknowledgement", "customer", "email", "dana@example.com")]
    acknowledgement = Notification.objects.get(commitment=commitment)
    assert acknowledgement.status == "pending"
    assert commitment.status_url in acknowledgement.body


def test_a_returning_customer_is_found_again_by_email_whatever_its_case(agent, now):
    first = make_commitment(actor=agent)

    # When the same person is given with their email in capitals and a new name spelling
    second = make_commitment(
        actor=agent, customer=customer_details(name="Dana Whitfield-Ross", email="  DANA@Example.COM ", phone="")
    )

    # Then there is still one customer, brought up to date, phone kept
    assert Customer.objects.count() == 1
    assert second.customer_id == first.customer_id
    customer = Customer.objects.get()
    assert (customer.name, customer.phone) == ("Dana Whitfield-Ross", "+12025550123")


def test_a_returning_customer_is_found_again_by_a_phone_number_written_the_local_way(agent, now):
    first = make_commitment(actor=agent)

    second = make_commitment(
        actor=agent, customer=customer_details(email="", phone="(202) 555-0123", preferred_channel="sms")
    )

    assert second.customer_id == first.customer_id
    assert Customer.objects.get().preferred_channel == "sms"


def test_the_contact_on_file_serves_the_preferred_channel_of_a_returning_customer(agent, now):
    # Given a customer on file with a phone number
    make_commitment(actor=agent)

    # When they are found by email and now prefer texts, without the phone being typed again
    commitment = make_commitment(actor=agent, customer=customer_details(phone="", preferred_channel="sms"))

    # Then the number on file is used
    assert outbox(commitment) == [("acknowledgement", "customer", "sms", "+12025550123")]


def test_two_people_are_never_merged_into_one(agent, now):
    make_commitment(actor=agent)
    make_commitment(actor=agent, customer=customer_details(name="Eli Park", email="eli@example.com", phone=""))

    # When Eli is given with Dana's phone number
    with pytest.raises(InvalidInput) as refused:
        make_commitment(actor=agent, customer=customer_details(name="Eli Park", email="eli@example.com"))

    # Then the phone is refused and nothing more is saved
    assert refused.value.errors == {"customer": {"phone": ["This phone number belongs to another customer's record."]}}
    assert Commitment.objects.count() == 2
    assert Customer.objects.get(email="eli@example.com").phone == ""


@pytest.mark.parametrize(
    ("customer", "field", "words"),
    [
        ({"email": "dana@example"}, "email", "valid email"),
        ({"phone": "+1 202 555"}, "phone", "valid phone"),
        ({"phone": "call me maybe"}, "phone", "valid phone"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "not a known time zone"),
        ({"preferred_channel": "sms", "phone": ""}, "phone", "needed to reach this customer by text message"),
        ({"preferred_channel": "phone", "phone": ""}, "phone", "needed to reach this customer by phone call"),
        ({"preferred_channel": "email", "email": ""}, "email", "needed to reach this customer by email"),
        ({"preferred_channel": "pigeon"}, "preferred_channel", "Choose one of"),
        ({"name": "   "}, "name", "customer's name"),
    ],
)
def test_bad_customer_details_name_the_field_and_save_nothing(agent, now, customer, field, words):
    with pytest.raises(InvalidInput) as refused:
        make_commitment(actor=agent, customer=customer_details(**customer))

    assert list(refused.value.errors) == ["customer"]
    assert list(refused.value.errors["customer"]) == [field]
    assert words in refused.value.errors["customer"][field][0]
    assert nothing_saved()


def test_every_mistake_is_reported_at_once_and_nothing_is_saved(agent, now):
    with pytest.raises(InvalidInput) as refused:
        make_commitment(
            actor=agent,
            customer=customer_details(email="not-an-email", preferred_channel="email"),
            summary="  ",
            due_at=now - timedelta(minutes=1),
            update_interval=timedelta(days=90),
        )

    assert refused.value.errors == {
        "customer": {"email": ["Enter a valid email address."]},
        "summary": ["Say what was promised."],
        "due_at": ["The due time must be in the future."],
        "update_interval": ["Choose an interval between 10s and 30d."],
    }
    assert nothing_saved()


def test_a_due_time_now_or_without_an_offset_is_refused(agent, now):
    with pytest.raises(InvalidInput) as at_now:
        make_commitment(actor=agent, due_at=now)
    with pytest.raises(InvalidInput) as naive:
        make_commitment(actor=agent, due_at=(now + timedelta(hours=2)).replace(tzinfo=None))

    assert at_now.value.errors == {"due_at": ["The due time must be in the future."]}
    assert "UTC offset" in naive.value.errors["due_at"][0]
    assert nothing_saved()


def test_the_contracts_example_number_is_accepted(agent, now):
    # 555-0100…0199 are reserved for fiction; the contract and documentation use them.
    commitment = make_commitment(
        actor=agent, customer=customer_details(phone="+15555550100", email="", preferred_channel="sms")
    )
    assert commitment.customer.phone == "+15555550100"


def test_the_owners_internal_target_may_be_earlier_but_never_later_than_the_promise(agent, now):
    commitment = make_commitment(
        actor=agent, due_at=now + timedelta(days=2), target_at=now + timedelta(days=1, hours=12)
    )
    assert commitment.target_at == now + timedelta(days=1, hours=12)

    with pytest.raises(InvalidInput) as refused:
        make_commitment(actor=agent, due_at=now + timedelta(days=2), target_at=now + timedelta(days=3))
    assert refused.value.errors == {
        "target_at": ["The internal target must be no later than the time promised to the customer."]
    }
    assert Commitment.objects.count() == 1


def test_a_promise_can_be_logged_for_a_teammate_but_not_for_someone_outside_the_team(agent, colleague, outsider, now):
    commitment = make_commitment(actor=agent, owner=colleague)
    assert (commitment.owner, commitment.assignee, commitment.created_by) == (colleague, colleague, agent)

    with pytest.raises(InvalidInput) as refused:
        make_commitment(actor=agent, owner=outsider, customer=customer_details(email="x@example.com", phone=""))
    assert refused.value.errors == {"owner": ["The owner is not in any of your teams."]}
    assert Commitment.objects.count() == 1


def test_an_owner_in_several_teams_must_say_which_team(agent, now):
    # As the app has it: the team read back from the database.
    TeamFactory(name="Installations")
    second_team = Team.objects.get(name="Installations")
    MembershipFactory(user=agent, team=second_team)

    with pytest.raises(InvalidInput) as refused:
        make_commitment(actor=agent)
    assert refused.value.errors == {"team": ["The owner is in several teams: choose one."]}

    commitment = make_commitment(actor=agent, team=second_team)
    assert commitment.team == second_team


# --- Status updates -----------------------------------------------------------------------------


def test_sending_an_update_tells_the_customer_now_and_restarts_the_update_clock(agent, promise, now):
    with time_machine.travel(now + timedelta(hours=5), tick=False):
        services.send_update(actor=agent, commitment=promise, message="The parts arrived; fitting starts at 9.")
        sent_at = timezone.now()

    promise.refresh_from_db()
    assert promise.last_update_at == sent_at
    assert promise.next_update_at == sent_at + timedelta(hours=24)
    event = promise.events.last()
    assert (event.kind, event.actor, event.message) == (
        "update_sent",
        agent,
        "The parts arrived; fitting starts at 9.",
    )
    update = Notification.objects.get(commitment=promise, kind="status_update")
    assert (update.audience, update.channel, update.recipient) == ("customer", "email", "dana@example.com")
    assert "The parts arrived; fitting starts at 9." in update.body


def test_an_empty_update_is_refused_and_changes_nothing(agent, promise):
    before = snapshot(promise)
    with pytest.raises(InvalidInput) as refused:
        services.send_update(actor=agent, commitment=promise, message="   ")
    assert refused.value.errors == {"message": ["Write the update for the customer."]}
    assert snapshot(promise) == before


def test_only_the_owner_the_assignee_or_a_lead_changes_a_commitment(agent, colleague, lead, outsider, promise):
    before = snapshot(promise)
    for stranger in (colleague, outsider):
        with pytest.raises(NotAllowed, match="Only the owner, the assignee or a team lead"):
            services.send_update(actor=stranger, commitment=promise, message="Hello")
    assert snapshot(promise) == before

    services.send_update(actor=lead, commitment=promise, message="Your lead here: all on track.")
    assert timeline(promise) == ["created", "update_sent"]


# --- Rescheduling -------------------------------------------------------------------------------


def test_rescheduling_tells_the_customer_the_new_time_and_the_reason(agent, promise, now):
    old_due = promise.due_at
    new_due = now + timedelta(days=4)

    services.reschedule(actor=agent, commitment=promise, due_at=new_due, reason="The supplier shipped late.")

    promise.refresh_from_db()
    assert promise.due_at == new_due
    assert promise.next_escalation_at == new_due - timedelta(hours=24)
    assert promise.next_update_at == now + timedelta(hours=24)
    event = promise.events.last()
    assert event.kind == "rescheduled"
    assert event.message == "The supplier shipped late."
    assert event.data == {"from": old_due.isoformat(), "to": new_due.isoformat()}
    notice = Notification.objects.get(commitment=promise, kind="reschedule")
    assert "The supplier shipped late." in notice.body


def test_rescheduling_into_the_past_or_without_a_reason_is_refused_and_changes_nothing(agent, promise, now):
    before = snapshot(promise)

    with pytest.raises(InvalidInput) as into_the_past:
        services.reschedule(actor=agent, commitment=promise, due_at=now - timedelta(hours=1), reason="Oops")
    with pytest.raises(InvalidInput) as no_reason:
        services.reschedule(actor=agent, commitment=promise, due_at=now + timedelta(days=5), reason=" ")

    assert into_the_past.value.errors == {"due_at": ["The new due time must be in the future."]}
    assert no_reason.value.errors == {"reason": ["Tell the customer why the time changes."]}
    assert snapshot(promise) == before


def test_rescheduling_a_missed_promise_opens_it_again(agent, promise, now):
    Commitment.objects.filter(pk=promise.pk).update(status=Status.MISSED, missed_at=now)

    services.reschedule(actor=agent, commitment=promise, due_at=now + timedelta(days=1), reason="New part ordered.")

    promise.refresh_from_db()
    assert (promise.status, promise.missed_at) == (Status.OPEN, None)


def test_rescheduling_drops_an_internal_target_that_would_come_after_the_new_time(agent, now):
    commitment = make_commitment(actor=agent, due_at=now + timedelta(days=3), target_at=now + timedelta(days=2))

    services.reschedule(actor=agent, commitment=commitment, due_at=now + timedelta(days=1), reason="Sooner!")

    commitment.refresh_from_db()
    assert commitment.target_at is None


def test_rescheduling_while_waiting_keeps_the_clock_stopped(agent, promise, now):
    services.wait_on_customer(actor=agent, commitment=promise, request="A photo of the serial plate.")
    with time_machine.travel(now + timedelta(hours=2), tick=False):
        services.reschedule(actor=agent, commitment=promise, due_at=now + timedelta(days=5), reason="Backorder.")

    promise.refresh_from_db()
    assert promise.status == Status.WAITING
    assert promise.paused_at == now + timedelta(hours=2)
    assert promise.next_escalation_at is None


# --- Hand-off -----------------------------------------------------------------------------------


def test_handing_off_moves_the_work_while_the_owner_stays_answerable(agent, colleague, promise):
    services.hand_off(actor=agent, commitment=promise, assignee=colleague, note="Sam knows this model.")

    promise.refresh_from_db()
    assert (promise.owner, promise.assignee) == (agent, colleague)
    event = promise.events.last()
    assert (event.kind, event.message) == ("handed_off", "Sam knows this model.")
    assert event.data["from"] == "alex" and event.data["to"] == "sam"
    assert event.data["to_name"] == "Sam Okafor"
    # The new assignee is told; the customer is not bothered
    assert outbox(promise)[1:] == [("alert", "staff", "email", "sam@staff.example.com")]
    # And both of them can now act on it
    services.send_update(actor=colleague, commitment=promise, message="Sam here, I have it.")
    services.send_update(actor=agent, commitment=promise, message="Alex here, still watching it.")


def test_a_hand_off_goes_only_to_someone_else_in_the_team(agent, outsider, promise):
    before = snapshot(promise)
    with pytest.raises(InvalidInput) as to_outsider:
        services.hand_off(actor=agent, commitment=promise, assignee=outsider)
    with pytest.raises(InvalidInput) as to_nobody:
        services.hand_off(actor=agent, commitment=promise, assignee=None)
    with pytest.raises(InvalidInput) as to_self:
        services.hand_off(actor=agent, commitment=promise, assignee=agent)

    assert to_outsider.value.errors == {"assignee": ["Choose a member of this commitment's team."]}
    assert to_nobody.value.errors == to_outsider.value.errors
    assert to_self.value.errors == {"assignee": ["Alex Rivera already has this commitment."]}
    assert snapshot(promise) == before


# --- Waiting on the customer ------------------------------------------------------------------


def test_waiting_on_the_customer_asks_for_exactly_what_we_need_and_pauses_the_clock(agent, promise, now):
    services.wait_on_customer(actor=agent, commitment=promise, request="A photo of the water heater's serial plate.")

    promise.refresh_from_db()
    assert promise.status == Status.WAITING
    assert promise.paused_at == now
    assert promise.waiting_request == "A photo of the water heater's serial plate."
    assert promise.next_escalation_at is None
    assert promise.events.last().kind == "waiting"
    request = Notification.objects.get(commitment=promise, kind="waiting")
    assert "serial plate" in request.body
    # A paused promise is not overdue, even past its due time
    with time_machine.travel(now + timedelta(days=5), tick=False):
        assert not promise.is_overdue


def test_resuming_moves_the_due_time_by_the_time_paused_and_tells_the_customer(agent, promise, now):
    due_before = promise.due_at
    waiting = services.wait_on_customer(actor=agent, commitment=promise, request="The serial number.")

    with time_machine.travel(now + timedelta(hours=3), tick=False):
        assert services.due_after_resuming(waiting, now=timezone.now()) == due_before + timedelta(hours=3)
        services.resume(actor=agent, commitment=promise, note="Got it by phone.")

    promise.refresh_from_db()
    assert promise.status == Status.OPEN
    assert promise.due_at == due_before + timedelta(hours=3)
    assert promise.paused_at is None
    event = promise.events.last()
    assert event.kind == "resumed"
    assert event.data["paused_seconds"] == 3 * 3600
    assert event.data["to"] == promise.due_at.isoformat()
    assert [kind for kind, *_ in outbox(promise)] == ["acknowledgement", "waiting", "reschedule"]


def test_a_promise_already_overdue_when_paused_gets_a_fresh_interval_on_resuming(agent, now):
    with time_machine.travel(now - timedelta(hours=6), tick=False):
        commitment = make_commitment(actor=agent, due_at=now - timedelta(hours=1))
    services.wait_on_customer(actor=agent, commitment=commitment, request="The model number.")

    with time_machine.travel(now + timedelta(hours=2), tick=False):
        resumed = services.resume(actor=agent, commitment=commitment, note="Got it.")

    assert resumed.due_at == now + timedelta(hours=2) + timedelta(hours=24)


def test_a_customers_answer_resumes_the_clock_and_alerts_the_owner_and_assignee(agent, colleague, promise):
    services.hand_off(actor=agent, commitment=promise, assignee=colleague)
    services.wait_on_customer(actor=colleague, commitment=promise, request="Which day suits you?")

    services.resume(actor=None, commitment=promise, note="Thursday morning.", by_customer=True)

    event = promise.events.last()
    assert (event.kind, event.actor, event.actor_name) == ("resumed", None, "customer")
    answered = Notification.objects.filter(commitment=promise, idempotency_key__contains="customer_answer")
    assert sorted(answered.values_list("recipient", flat=True)) == ["alex@staff.example.com", "sam@staff.example.com"]


def test_only_a_waiting_promise_can_be_resumed_and_only_a_running_one_put_on_hold(agent, promise):
    before = snapshot(promise)
    with pytest.raises(IllegalMove, match=r"This commitment is open, so it cannot be resumed\."):
        services.resume(actor=agent, commitment=promise)
    assert snapshot(promise) == before

    services.wait_on_customer(actor=agent, commitment=promise, request="The address.")
    with pytest.raises(IllegalMove, match=r"waiting on the customer, so it cannot be put on hold"):
        services.wait_on_customer(actor=agent, commitment=promise, request="And the phone number.")


# --- Fulfilling, chasing, cancelling, confirming, reopening -------------------------------


def test_fulfilling_tells_the_customer_and_schedules_the_satisfaction_check(agent, promise, now):
    services.fulfil(actor=agent, commitment=promise, resolution="The estimate is in your inbox.")

    promise.refresh_from_db()
    assert promise.status == Status.FULFILLED
    assert promise.fulfilled_at == now
    assert promise.resolution == "The estimate is in your inbox."
    assert promise.next_update_at is None and promise.next_escalation_at is None
    assert promise.satisfaction_due_at == now + timedelta(hours=24)
    event = promise.events.last()
    assert (event.kind, event.data) == ("fulfilled", {"on_time": True})
    resolution = Notification.objects.get(commitment=promise, kind="resolution")
    assert "The estimate is in your inbox." in resolution.body


def test_a_cancelled_promise_cannot_be_fulfilled_and_nothing_changes(agent, promise):
    services.cancel(actor=agent, commitment=promise, reason="The customer bought elsewhere.")
    before = snapshot(promise)

    with pytest.raises(IllegalMove) as refused:
        services.fulfil(actor=agent, commitment=promise, resolution="Done.")

    assert str(refused.value) == "This commitment is cancelled, so it cannot be fulfilled."
    assert snapshot(promise) == before


def test_a_fulfilment_without_saying_what_was_done_is_refused(agent, promise):
    before = snapshot(promise)
    with pytest.raises(InvalidInput) as refused:
        services.fulfil(actor=agent, commitment=promise, resolution="")
    assert refused.value.errors == {"resolution": ["Tell the customer what was done."]}
    assert snapshot(promise) == before


def test_any_teammate_records_that_the_customer_chased_us_but_no_message_is_sent(agent, colleague, outsider, promise):
    services.record_chase(actor=colleague, commitment=promise, channel="phone", note="Called asking for the estimate.")

    event = promise.events.last()
    assert (event.kind, event.actor, event.data) == ("chased", colleague, {"channel": "phone"})
    assert [kind for kind, *_ in outbox(promise)] == ["acknowledgement"]

    with pytest.raises(NotAllowed):
        services.record_chase(actor=outsider, commitment=promise, channel="email")
    with pytest.raises(InvalidInput) as bad_channel:
        services.record_chase(actor=agent, commitment=promise, channel="fax")
    assert list(bad_channel.value.errors) == ["channel"]
    assert timeline(promise) == ["created", "chased"]


def test_cancelling_suppresses_unsent_messages_and_sends_a_short_notice(agent, promise):
    services.cancel(actor=agent, commitment=promise, reason="Duplicate of another request.")

    promise.refresh_from_db()
    assert promise.status == Status.CANCELLED
    assert promise.next_update_at is None and promise.next_escalation_at is None
    messages = dict(Notification.objects.filter(commitment=promise).values_list("kind", "status"))
    assert messages == {"acknowledgement": "suppressed", "cancellation": "pending"}
    assert promise.events.last().message == "Duplicate of another request."

    with pytest.raises(IllegalMove, match="cancelled, so it cannot be cancelled"):
        services.cancel(actor=agent, commitment=promise)


def test_the_customer_confirms_a_fulfilled_promise_and_it_closes(agent, promise):
    with pytest.raises(IllegalMove):
        services.confirm(commitment=promise)

    services.fulfil(actor=agent, commitment=promise, resolution="Done.")
    services.confirm(commitment=promise)

    promise.refresh_from_db()
    assert promise.status == Status.CONFIRMED
    assert promise.satisfaction_due_at is None
    event = promise.events.last()
    assert (event.kind, event.actor_name) == ("confirmed", "customer")


def test_reopening_restarts_the_clock_and_alerts_the_owner_and_the_lead(agent, lead, promise, now):
    services.fulfil(actor=agent, commitment=promise, resolution="Done.")

    with time_machine.travel(now + timedelta(days=3), tick=False):
        services.reopen(actor=agent, commitment=promise, reason="The heater leaks again.")
        reopened_at = timezone.now()

    promise.refresh_from_db()
    assert promise.status == Status.REOPENED
    assert promise.due_at == reopened_at + timedelta(hours=24)
    assert promise.next_update_at == reopened_at + timedelta(hours=24)
    alerts = Notification.objects.filter(commitment=promise, kind="alert")
    assert sorted(alerts.values_list("recipient", flat=True)) == ["alex@staff.example.com", "lee@staff.example.com"]
    assert all("The heater leaks again." in alert.body for alert in alerts)


def test_reopening_needs_a_reason_and_a_finished_promise(agent, promise):
    with pytest.raises(IllegalMove, match="open, so it cannot be reopened"):
        services.reopen(actor=agent, commitment=promise, reason="Still broken.")
    services.fulfil(actor=agent, commitment=promise, resolution="Done.")
    before = snapshot(promise)
    with pytest.raises(InvalidInput) as refused:
        services.reopen(actor=agent, commitment=promise, reason="")
    assert refused.value.errors == {"reason": ["Say what is still wrong."]}
    assert snapshot(promise) == before


def test_the_customer_cannot_reopen_what_they_already_confirmed(agent, promise):
    services.fulfil(actor=agent, commitment=promise, resolution="Done.")
    services.confirm(commitment=promise)

    with pytest.raises(IllegalMove):
        services.reopen(actor=None, commitment=promise, reason="", by_customer=True)


# --- Editing ------------------------------------------------------------------------------------


def test_editing_records_what_changed_and_recounts_the_next_update(agent, promise, now):
    services.edit_commitment(
        actor=agent,
        commitment=promise,
        summary="Send the revised repair estimate",
        details=promise.details,
        update_interval=timedelta(hours=4),
    )

    promise.refresh_from_db()
    assert promise.summary == "Send the revised repair estimate"
    assert promise.next_update_at == now + timedelta(hours=4)
    event = promise.events.last()
    assert event.kind == "edited"
    assert event.data["changes"] == {
        "summary": ["Send the repair estimate", "Send the revised repair estimate"],
        "update_interval": ["24h", "4h"],
    }


def test_an_edit_that_changes_nothing_leaves_no_trace(agent, promise):
    services.edit_commitment(actor=agent, commitment=promise, summary=promise.summary)
    assert timeline(promise) == ["created"]


def test_a_bad_edit_is_refused_whole(agent, promise, now):
    before = snapshot(promise)
    with pytest.raises(InvalidInput) as refused:
        services.edit_commitment(
            actor=agent,
            commitment=promise,
            summary="A better summary",
            update_interval=timedelta(seconds=1),
            target_at=now + timedelta(days=9),
        )
    assert set(refused.value.errors) == {"update_interval", "target_at"}
    assert snapshot(promise) == before


def test_the_internal_target_is_set_and_cleared_by_editing(agent, promise, now):
    services.edit_commitment(actor=agent, commitment=promise, target_at=now + timedelta(days=1))
    promise.refresh_from_db()
    assert promise.target_at == now + timedelta(days=1)

    services.edit_commitment(actor=agent, commitment=promise, clear_target=True)
    promise.refresh_from_db()
    assert promise.target_at is None
    assert timeline(promise) == ["created", "edited", "edited"]


# --- Customers ------------------------------------------------------------------------------------


def test_correcting_a_customers_details_is_recorded_on_their_open_promises(agent, promise):
    services.edit_customer(
        actor=agent,
        customer=promise.customer,
        details=customer_details(phone="202-555-0188", preferred_channel="sms"),
        notes="Prefers mornings.",
    )

    customer = Customer.objects.get()
    assert (customer.phone, customer.preferred_channel, customer.notes) == ("+12025550188", "sms", "Prefers mornings.")
    event = promise.events.last()
    assert event.kind == "preferences"
    assert event.data["changes"] == {"phone": ["+12025550123", "+12025550188"], "preferred_channel": ["email", "sms"]}


def test_a_customer_cannot_take_another_customers_email_or_be_changed_by_another_team(agent, outsider, promise):
    make_commitment(actor=agent, customer=customer_details(name="Eli Park", email="eli@example.com", phone=""))

    with pytest.raises(InvalidInput) as refused:
        services.edit_customer(
            actor=agent, customer=promise.customer, details=customer_details(email="eli@example.com")
        )
    assert refused.value.errors == {"email": ["This email address belongs to another customer's record."]}

    with pytest.raises(NotAllowed):
        services.edit_customer(actor=outsider, customer=promise.customer, details=customer_details(name="X"))
    assert Customer.objects.get(pk=promise.customer_id).name == "Dana Whitfield"


# --- What may be done ------------------------------------------------------------------------------


def test_the_moves_on_offer_follow_the_status_and_the_person(agent, colleague, outsider, promise):
    assert services.available_actions(actor=agent, commitment=promise) == {
        "edit",
        "send_update",
        "reschedule",
        "hand_off",
        "wait_on_customer",
        "fulfil",
        "record_chase",
        "cancel",
    }
    assert services.available_actions(actor=colleague, commitment=promise) == {"record_chase"}
    assert services.available_actions(actor=outsider, commitment=promise) == set()

    fulfilled = services.fulfil(actor=agent, commitment=promise, resolution="Done.")
    assert services.available_actions(actor=agent, commitment=fulfilled) == {
        "edit",
        "hand_off",
        "record_chase",
        "reopen",
    }


# --- The whole story ------------------------------------------------------------------------------


def test_the_timeline_tells_the_whole_story_in_order(agent, colleague, lead, now):
    commitment = make_commitment(actor=agent, due_at=now + timedelta(days=2))
    steps = [
        lambda: services.send_update(actor=agent, commitment=commitment, message="Parts ordered."),
        lambda: services.record_chase(actor=agent, commitment=commitment, channel="email", note="Asked for news."),
        lambda: services.hand_off(actor=agent, commitment=commitment, assignee=colleague, note="Sam fits it."),
        lambda: services.wait_on_customer(actor=colleague, commitment=commitment, request="A time we can come."),
        lambda: services.resume(actor=colleague, commitment=commitment, note="Friday 9:00."),
        lambda: services.reschedule(
            actor=lead, commitment=commitment, due_at=now + timedelta(days=4), reason="Friday visit."
        ),
        lambda: services.fulfil(actor=colleague, commitment=commitment, resolution="Fitted and tested."),
        lambda: services.confirm(commitment=commitment),
    ]
    for hour, step in enumerate(steps, start=1):
        with time_machine.travel(now + timedelta(hours=hour), tick=False):
            step()

    events = list(commitment.events.all())
    assert [(event.kind, event.actor_name) for event in events] == [
        ("created", "Alex Rivera"),
        ("update_sent", "Alex Rivera"),
        ("chased", "Alex Rivera"),
        ("handed_off", "Alex Rivera"),
        ("waiting", "Sam Okafor"),
        ("resumed", "Sam Okafor"),
        ("rescheduled", "Lee Chen"),
        ("fulfilled", "Sam Okafor"),
        ("confirmed", "customer"),
    ]
    assert [event.created_at for event in events] == sorted(event.created_at for event in events)
    assert [kind for kind, audience, *_ in outbox(commitment) if audience == "customer"] == [
        "acknowledgement",
        "status_update",
        "waiting",
        "reschedule",
        "reschedule",
        "resolution",
    ]


def test_a_second_customer_with_the_same_name_is_a_different_person(agent, now):
    first = make_commitment(actor=agent)
    second = make_commitment(actor=agent, customer=customer_details(email="dana.w@example.org", phone="+12025550144"))
    assert first.customer_id != second.customer_id


def test_a_switched_off_account_cannot_be_given_a_promise(agent, colleague, now):
    colleague.is_active = False
    colleague.save()
    with pytest.raises(InvalidInput) as refused:
        make_commitment(actor=agent, owner=colleague)
    assert refused.value.errors == {"owner": ["This person's account is switched off: choose someone else."]}
    assert not Commitment.objects.exists()
