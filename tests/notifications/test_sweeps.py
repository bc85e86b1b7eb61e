"""The sweeps over several cycles, with time travel: status updates, the escalation ladder, missed
promises, satisfaction checks and undone call tasks; and two sweeps racing.

What is asserted is what the sweeps made (outbox rows and timeline events); delivering them is
the delivery's business (test_delivery.py) and the live test runs both together.
"""

import base64
import json
import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
import redis
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Holiday, Membership, Team, User
from commitments import services
from commitments.models import Commitment, Status, TimelineEvent
from notifications import call_tasks, outbox, sweeps, wording
from notifications.channels.email import build_email
from notifications.models import Audience, DeliveryStatus, MessageKind, Notification
from tests.factories import MembershipFactory, customer_details, make_commitment

pytestmark = pytest.mark.django_db

# Tuesday 24 November 2026, 15:00 UTC (10:00 in New York).
START = datetime(2026, 11, 24, 15, tzinfo=UTC)
NOTHING = {"missed": 0, "escalations": 0, "status_updates": 0, "satisfaction_checks": 0, "call_task_escalations": 0}


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def sweep_at(clock, moment: datetime) -> dict[str, int]:
    clock.move_to(moment)
    return sweeps.run_sweeps()


def made(commitment: Commitment, kind: str) -> list[Notification]:
    return list(Notification.objects.filter(commitment=commitment, kind=kind).order_by("created_at", "pk"))


def to_whom(commitment: Commitment, kind: str) -> list[str]:
    return sorted(row.recipient for row in made(commitment, kind))


def statements(queries: CaptureQueriesContext) -> int:
    """Queries sent, leaving out the savepoints the test's own transaction adds."""
    return sum(1 for query in queries.captured_queries if "SAVEPOINT" not in query["sql"])


def events(commitment: Commitment, kind: str) -> list[TimelineEvent]:
    return list(TimelineEvent.objects.filter(commitment=commitment, kind=kind))


# --- Status updates -------------------------------------------------------------------------


def test_status_updates_come_every_interval_and_an_agents_update_resets_the_clock(clock, agent):
    # Given a promise logged now, updates every 6 hours, due in three days
    commitment = make_commitment(actor=agent, due_at=START + timedelta(days=3), update_interval=timedelta(hours=6))

    # When the sweeps run just before and at the first interval
    assert sweep_at(clock, START + timedelta(hours=5, minutes=59)) == NOTHING
    first = sweep_at(clock, START + timedelta(hours=6))

    # Then one automatic update is made, and the timeline shows it
    assert first["status_updates"] == 1
    [update] = made(commitment, MessageKind.STATUS_UPDATE)
    assert (update.audience, update.channel, update.recipient) == (Audience.CUSTOMER, "email", "dana@example.com")
    assert "Nothing has changed since our last update on Tuesday 24 November at 10:00 AM EST" in update.body
    assert "Next update: by Tuesday 24 November at 10:00 PM EST" in update.body
    [event] = events(commitment, TimelineEvent.Kind.UPDATE_SENT)
    assert event.data["automatic"] is True and event.actor is None

    # And a second sweep at once finds nothing to do
    assert sweeps.run_sweeps() == NOTHING

    # When the owner writes an update four hours later
    clock.move_to(START + timedelta(hours=10))
    services.send_update(actor=agent, commitment=commitment, message="The parts are ordered")

    # Then the next automatic update counts from the owner's: none at 12h, one at 16h
    assert sweep_at(clock, START + timedelta(hours=12))["status_updates"] == 0
    assert sweep_at(clock, START + timedelta(hours=16))["status_updates"] == 1
    automatic = [row for row in made(commitment, MessageKind.STATUS_UPDATE) if ":auto:" in row.idempotency_key]
    assert len(automatic) == 2
    assert "Nothing has changed since our last update on Tuesday 24 November at 8:00 PM EST" in automatic[-1].body
    commitment.refresh_from_db()
    assert commitment.next_update_at == START + timedelta(hours=22)


def test_a_waiting_commitment_gets_updates_but_no_warnings(clock, agent, lead):
    # Given a promise due in 30 hours, on hold waiting for Dana
    commitment = make_commitment(actor=agent, due_at=START + timedelta(hours=30))
    services.wait_on_customer(actor=agent, commitment=commitment, request="A photo of the label")

    # When a day passes
    counts = sweep_at(clock, START + timedelta(hours=24))

    # Then Dana is reminded of what we need, and nobody is warned about the paused due time
    assert counts["status_updates"] == 1 and counts["escalations"] == 0
    [update] = made(commitment, MessageKind.STATUS_UPDATE)
    assert "We are still waiting for this from you: A photo of the label." in update.body
    assert made(commitment, MessageKind.ESCALATION) == []


def test_a_texting_customers_updates_follow_quiet_hours_across_the_spring_daylight_saving_change(clock, agent):
    # Given Dana texts, lives in New York and her promise is logged Saturday 7 March 2026 at 22:00 EST,
    # with an update every 15 hours
    clock.move_to(datetime(2026, 3, 8, 3, tzinfo=UTC))
    commitment = make_commitment(
        actor=agent,
        customer=customer_details(preferred_channel="sms"),
        due_at=datetime(2026, 3, 20, tzinfo=UTC),
        update_interval=timedelta(hours=15),
    )
    # Her acknowledgement waits for Sunday 08:00, which is EDT by then (12:00 UTC, not 13:00)
    assert made(commitment, MessageKind.ACKNOWLEDGEMENT)[0].scheduled_for == datetime(2026, 3, 8, 12, tzinfo=UTC)

    # When her first automatic update falls due, 15 hours after she got it: 23:00 EDT on Sunday
    assert sweep_at(clock, datetime(2026, 3, 9, 2, 59, tzinfo=UTC))["status_updates"] == 0
    sweep_at(clock, datetime(2026, 3, 9, 3, tzinfo=UTC))

    # Then it waits for 08:00 EDT Monday, and the next one is due 15 hours after she gets it
    [update] = made(commitment, MessageKind.STATUS_UPDATE)
    assert update.scheduled_for == update.next_attempt_at == datetime(2026, 3, 9, 12, tzinfo=UTC)
    commitment.refresh_from_db()
    assert commitment.next_update_at == datetime(2026, 3, 10, 3, tzinfo=UTC)

    # And that one, at 23:00 EDT on Monday, waits for Tuesday morning in turn
    sweep_at(clock, datetime(2026, 3, 10, 3, tzinfo=UTC))
    assert made(commitment, MessageKind.STATUS_UPDATE)[-1].scheduled_for == datetime(2026, 3, 10, 12, tzinfo=UTC)


# --- The escalation ladder ------------------------------------------------------------------


def test_the_owner_is_warned_at_each_step_and_the_lead_too_at_the_last(clock, agent, lead):
    # Given a promise due in 30 hours, warnings 24h and 4h before, updates every two days
    commitment = make_commitment(actor=agent, due_at=START + timedelta(hours=30), update_interval=timedelta(hours=48))

    # When the sweeps run up to the first step
    assert sweep_at(clock, START + timedelta(hours=5, minutes=59))["escalations"] == 0
    assert sweep_at(clock, START + timedelta(hours=6))["escalations"] == 1

    # Then only the owner is warned, once
    assert to_whom(commitment, MessageKind.ESCALATION) == [agent.email]
    assert (
        made(commitment, MessageKind.ESCALATION)[0].subject == "Due in 1 day: Send the repair estimate (Dana Whitfield)"
    )
    assert sweep_at(clock, START + timedelta(hours=7))["escalations"] == 0

    # When the last step comes
    assert sweep_at(clock, START + timedelta(hours=26))["escalations"] == 1

    # Then the owner and the lead are warned
    last = [row for row in made(commitment, MessageKind.ESCALATION) if ":step2:" in row.idempotency_key]
    assert sorted(row.recipient for row in last) == sorted([agent.email, lead.email])
    assert all(row.subject.startswith("Due in 4 hours:") for row in last)
    steps = [event.data["step"] for event in events(commitment, TimelineEvent.Kind.ESCALATED)]
    assert steps == [1, 2]
    commitment.refresh_from_db()
    assert (commitment.escalations_sent, commitment.next_escalation_at) == (2, None)


@pytest.fixture
def office(agent, lead):
    """The agent's and lead's team, in New York, working 09:00-17:00 on weekdays."""
    team = agent.teams.get()
    team.workday_starts, team.workday_ends, team.working_days = time(9), time(17), "1,2,3,4,5"
    team.save()
    return team


def test_a_warning_that_would_fall_on_the_weekend_goes_on_friday_afternoon(clock, agent, lead, office):
    # Given a promise due Monday 30 November at 10:00 EST, logged on Wednesday
    clock.move_to(datetime(2026, 11, 25, 15, tzinfo=UTC))
    commitment = make_commitment(
        actor=agent, due_at=datetime(2026, 11, 30, 15, tzinfo=UTC), update_interval=timedelta(days=7)
    )

    # When the sweeps run on Friday just before and at 16:59 EST
    assert sweep_at(clock, datetime(2026, 11, 27, 21, 58, tzinfo=UTC))["escalations"] == 0
    sweep_at(clock, datetime(2026, 11, 27, 21, 59, tzinfo=UTC))

    # Then both warnings (Sunday 10:00 and Monday 06:00) have gone on Friday, the lead told at the last
    assert to_whom(commitment, MessageKind.ESCALATION) == sorted([agent.email, agent.email, lead.email])
    # and nothing more comes over the weekend
    for day in (28, 29):
        assert sweep_at(clock, datetime(2026, 11, day, 15, tzinfo=UTC))["escalations"] == 0


def test_a_warning_that_would_fall_on_a_holiday_goes_the_working_day_before(clock, agent, lead, office, settings):
    # Given Thanksgiving is a holiday and one warning, 24h before, for a promise due Friday 10:00 EST
    settings.FOLLOWTHROUGH_ESCALATE_BEFORE = [timedelta(hours=24)]
    Holiday.objects.create(team=office, date=date(2026, 11, 26), name="Thanksgiving")
    commitment = make_commitment(
        actor=agent, due_at=datetime(2026, 11, 27, 15, tzinfo=UTC), update_interval=timedelta(days=7)
    )

    # When the sweeps run on Wednesday at 16:58 and 16:59 EST
    assert sweep_at(clock, datetime(2026, 11, 25, 21, 58, tzinfo=UTC))["escalations"] == 0
    assert sweep_at(clock, datetime(2026, 11, 25, 21, 59, tzinfo=UTC))["escalations"] == 1

    # Then the warning (the last step, so to the lead too) went on Wednesday afternoon
    warnings = made(commitment, MessageKind.ESCALATION)
    assert sorted(row.recipient for row in warnings) == sorted([agent.email, lead.email])
    assert warnings[0].subject == "Due in 1 day 17 hours: Send the repair estimate (Dana Whitfield)"
    assert sweep_at(clock, datetime(2026, 11, 26, 15, tzinfo=UTC))["escalations"] == 0


# --- Missed ---------------------------------------------------------------------------------


def test_a_missed_promise_gets_an_apology_an_escalation_and_reminders_until_rescheduled(clock, agent, lead):
    # Given a promise due in two hours, updates every hour
    commitment = make_commitment(actor=agent, due_at=START + timedelta(hours=2), update_interval=timedelta(hours=1))
    sweep_at(clock, START + timedelta(hours=1))

    # When a sweep runs one second after the due time
    counts = sweep_at(clock, START + timedelta(hours=2, seconds=1))

    # Then the promise is missed, on the timeline, Dana gets an apology and owner and lead an escalation
    assert counts["missed"] == 1
    commitment.refresh_from_db()
    assert commitment.status == Status.MISSED and commitment.missed_at == START + timedelta(hours=2, seconds=1)
    assert len(events(commitment, TimelineEvent.Kind.MISSED)) == 1
    [apology] = made(commitment, MessageKind.APOLOGY)
    assert apology.recipient == "dana@example.com" and "we did not keep that promise" in apology.body
    missed = [row for row in made(commitment, MessageKind.ESCALATION) if ":missed:" in row.idempotency_key]
    assert sorted(row.recipient for row in missed) == sorted([agent.email, lead.email])
    assert missed[0].subject == "Missed: Send the repair estimate (Dana Whitfield)"
    # and a second sweep makes nothing more
    assert sweeps.run_sweeps() == NOTHING

    # When an interval passes, and another
    one = sweep_at(clock, START + timedelta(hours=3, seconds=1))
    two = sweep_at(clock, START + timedelta(hours=4, seconds=1))

    # Then owner and lead are reminded each time, and Dana's updates go on, saying it is late
    assert one["escalations"] == two["escalations"] == 1
    assert one["status_updates"] == two["status_updates"] == 1
    reminders = [row for row in made(commitment, MessageKind.ESCALATION) if ":reminder:" in row.idempotency_key]
    assert len(reminders) == 4 and reminders[-1].subject.startswith("Still missed, 2 hours late:")
    latest_update = made(commitment, MessageKind.STATUS_UPDATE)[-1]
    assert latest_update.subject == "Late, and still on it: Send the repair estimate"
    assert "We did not keep our promise to have this done by" in latest_update.body

    # When the owner reschedules with a reason
    services.reschedule(
        actor=agent, commitment=commitment, due_at=START + timedelta(days=2), reason="The part is back-ordered"
    )

    # Then the reminders stop
    assert sweep_at(clock, START + timedelta(hours=6))["escalations"] == 0
    assert len([row for row in made(commitment, MessageKind.ESCALATION) if ":reminder:" in row.idempotency_key]) == 4


def test_a_fulfilled_or_cancelled_promise_is_never_missed(clock, agent):
    fulfilled = make_commitment(actor=agent, due_at=START + timedelta(hours=1))
    cancelled = make_commitment(
        actor=agent,
        due_at=START + timedelta(hours=1),
        customer=customer_details(name="Sam Ortiz", email="sam@example.com", phone="+12025550142"),
    )
    services.fulfil(actor=agent, commitment=fulfilled, resolution="Sent the estimate")
    services.cancel(actor=agent, commitment=cancelled, reason="Not needed")

    counts = sweep_at(clock, START + timedelta(hours=2))

    assert counts["missed"] == 0
    assert not Notification.objects.filter(kind__in=[MessageKind.APOLOGY, MessageKind.ESCALATION]).exists()


# --- Satisfaction ---------------------------------------------------------------------------


def test_the_customer_is_asked_whether_it_is_solved_a_day_after_fulfilment(clock, agent):
    # Given the estimate was sent now
    commitment = make_commitment(actor=agent, due_at=START + timedelta(days=1))
    services.fulfil(actor=agent, commitment=commitment, resolution="The estimate is in your inbox")

    # When the sweeps run a little before and at one day later
    assert sweep_at(clock, START + timedelta(hours=23, minutes=59))["satisfaction_checks"] == 0
    assert sweep_at(clock, START + timedelta(hours=24))["satisfaction_checks"] == 1

    # Then Dana is asked, once, yes or no, with her status link
    [check] = made(commitment, MessageKind.SATISFACTION_CHECK)
    assert commitment.status_url in check.body and "Answer yes or no" in check.body
    commitment.refresh_from_db()
    assert commitment.satisfaction_due_at is None
    assert sweep_at(clock, START + timedelta(hours=48)) == NOTHING


# --- Call tasks -----------------------------------------------------------------------------


def test_an_undone_call_task_escalates_to_owner_and_lead_once(clock, agent, lead):
    # Given Dana prefers calls; her owner has a call task for the acknowledgement; updates every 8 hours
    commitment = make_commitment(
        actor=agent,
        customer=customer_details(preferred_channel="phone"),
        due_at=START + timedelta(days=3),
        update_interval=timedelta(hours=8),
    )
    assert [task.customer_kind for task in made(commitment, MessageKind.CALL_TASK)] == [MessageKind.ACKNOWLEDGEMENT]

    # When the call is still not logged one interval later
    assert sweep_at(clock, START + timedelta(hours=7, minutes=59))["call_task_escalations"] == 0
    counts = sweep_at(clock, START + timedelta(hours=8))

    # Then owner and lead hear of it, once
    assert counts["call_task_escalations"] == 1
    escalations = made(commitment, MessageKind.ESCALATION)
    assert sorted(row.recipient for row in escalations) == sorted([agent.email, lead.email])
    assert escalations[0].subject == "Call not made: Dana Whitfield (Send the repair estimate)"
    # and the automatic update became a second call task
    assert [row.customer_kind for row in made(commitment, MessageKind.CALL_TASK)] == [
        MessageKind.ACKNOWLEDGEMENT,
        MessageKind.STATUS_UPDATE,
    ]
    assert sweep_at(clock, START + timedelta(hours=9))["call_task_escalations"] == 0

    # When the owner logs the call, the newer task does not escalate either
    call_tasks.log_call(actor=agent, task=made(commitment, MessageKind.CALL_TASK)[-1], note="Spoke to Dana")
    assert sweep_at(clock, START + timedelta(hours=17))["call_task_escalations"] == 0
    assert len(made(commitment, MessageKind.ESCALATION)) == 2


# --- Many at once ---------------------------------------------------------------------------


def test_a_second_sweep_right_after_finds_nothing_in_one_query(clock, agent):
    for index in range(3):
        make_commitment(
            actor=agent,
            customer=customer_details(name=f"Customer {index}", email=f"c{index}@example.com", phone=""),
            due_at=START + timedelta(hours=2),
        )
    sweep_at(clock, START + timedelta(days=1))

    with CaptureQueriesContext(connection) as queries:
        assert sweeps.run_sweeps() == NOTHING

    assert statements(queries) == 1


def test_queries_grow_per_batch_not_per_commitment(clock, agent, lead, monkeypatch):
    monkeypatch.setattr(sweeps, "BATCH_SIZE", 100)

    def log(count: int, offset: int) -> None:
        for index in range(offset, offset + count):
            make_commitment(
                actor=agent,
                customer=customer_details(name=f"Customer {index}", email=f"c{index}@example.com", phone=""),
                due_at=timezone.now() + timedelta(hours=2),
            )

    # Given 5 promises past due, then (an hour later) 40 more
    log(5, 0)
    with CaptureQueriesContext(connection) as few:
        assert sweep_at(clock, START + timedelta(hours=3))["missed"] == 5
    log(40, 5)
    with CaptureQueriesContext(connection) as many:
        assert sweep_at(clock, START + timedelta(hours=6))["missed"] == 40

    # Then both sweeps took the same number of queries: per batch, the claim, the update, the ids,
    # a COPY each for the outbox and the timeline; per run, which sweeps have work, and the team,
    # owners, leads and holidays
    assert statements(many) == statements(few) <= 11
    assert Notification.objects.filter(kind=MessageKind.APOLOGY).count() == 45


def test_a_message_already_in_the_outbox_is_not_made_twice_and_the_rest_of_its_batch_is(clock, agent, lead):
    # Given two promises past due, and the apology for the first already in the outbox
    first, second = (
        make_commitment(
            actor=agent,
            customer=customer_details(name=f"Customer {index}", email=f"c{index}@example.com", phone=""),
            due_at=START + timedelta(hours=2),
        )
        for index in range(2)
    )
    key = f"{first.pk}:apology:{sweeps.stamp(first.due_at)}"
    [already] = outbox.notify_customer(first, MessageKind.APOLOGY, key=key)

    # When the sweep marks them missed
    assert sweep_at(clock, START + timedelta(hours=3))["missed"] == 2

    # Then the first still has that one apology, the second has its own, and both owners and the lead heard
    assert made(first, MessageKind.APOLOGY) == [already]
    assert len(made(second, MessageKind.APOLOGY)) == 1
    assert (
        to_whom(first, MessageKind.ESCALATION)
        == to_whom(second, MessageKind.ESCALATION)
        == sorted([agent.email, lead.email])
    )
    assert len(events(first, TimelineEvent.Kind.MISSED)) == len(events(second, TimelineEvent.Kind.MISSED)) == 1


def test_what_a_sweep_writes_reads_back_exactly_and_goes_out_with_its_html(clock, agent):
    # Given a promise on hold for something written with a backslash, a tab and line breaks
    commitment = make_commitment(actor=agent, due_at=START + timedelta(days=3))
    request = "The serial from C:\\Heater\\label.txt:\tSN 48213-B\n\nand a photo"
    services.wait_on_customer(actor=agent, commitment=commitment, request=request)

    # When her automatic update is made a day later
    sweep_at(clock, START + timedelta(days=1))

    # Then the update says exactly what we need, and the timeline says it went
    [update] = made(commitment, MessageKind.STATUS_UPDATE)
    assert f"We are still waiting for this from you: {request}." in update.body
    [event] = events(commitment, TimelineEvent.Kind.UPDATE_SENT)
    assert event.data["idempotency_key"] == update.idempotency_key and event.actor_label == "system"
    # and the email that goes out has an HTML version with the same words and the promise's facts
    [(html, _)] = build_email(update).alternatives
    assert isinstance(html, str)
    assert "C:\\Heater\\label.txt:\tSN 48213-B</p>" in html and "and a photo." in html
    assert "Alex Rivera, Home Repairs" in html and f'href="{commitment.status_url}"' in html


def test_delivery_is_enqueued_once_the_batch_commits_for_the_messages_due_now(
    clock, agent, django_capture_on_commit_callbacks, settings
):
    # Given an empty queue, and two promises logged at 15:00 in Tokyo (06:00 UTC), updates every 9
    # hours: to Dana in New York by email, and to Kenji in Tokyo by text
    queue: redis.Redis = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    clock.move_to(START - timedelta(hours=9))
    dana = make_commitment(actor=agent, due_at=START + timedelta(days=3), update_interval=timedelta(hours=9))
    kenji = make_commitment(
        actor=agent,
        customer=customer_details(
            name="Kenji Sato", email="", phone="+12025550142", preferred_channel="sms", timezone="Asia/Tokyo"
        ),
        due_at=START + timedelta(days=3),
        update_interval=timedelta(hours=9),
    )
    queue.delete("celery")

    # When their updates are made at midnight in Tokyo, and the batch commits
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_at(clock, START)["status_updates"] == 2

    # Then Dana's email is enqueued for delivery now; Kenji's text waits for his morning, and is not
    [dana_update], [kenji_update] = made(dana, MessageKind.STATUS_UPDATE), made(kenji, MessageKind.STATUS_UPDATE)
    assert kenji_update.scheduled_for == START + timedelta(hours=8)  # 08:00 in Tokyo
    queued = [json.loads(raw) for raw in queue.lrange("celery", 0, -1)]  # type: ignore[union-attr]
    queue.delete("celery")
    assert [json.loads(base64.b64decode(task["body"]))[0] for task in queued] == [[[dana_update.pk]]]


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_racing_make_nothing_twice(monkeypatch, clock):
    # Given 40 promises whose update is due and 20 past due, in small batches, on a Tuesday
    # afternoon (the warnings before due count working hours: a free-running clock would put
    # the 40 within their warning on some afternoons of the week and not on others)
    monkeypatch.setattr(sweeps, "BATCH_SIZE", 7)
    team = Team.objects.create(name="Racing")
    owner = User.objects.create_user(username="owner", email="owner@staff.example.com")
    MembershipFactory(user=owner, team=team, role=Membership.Role.LEAD)
    for index in range(60):
        make_commitment(
            actor=owner,
            customer=customer_details(name=f"Customer {index}", email=f"c{index}@example.com", phone=""),
            due_at=timezone.now() + (timedelta(days=3) if index < 40 else timedelta(hours=2)),
        )
    later = timezone.now() + timedelta(hours=25)

    # When two sweeps start at the same moment, each on its own connection
    start = threading.Barrier(2)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            start.wait()
            results.append(sweeps.run_sweeps(later))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then each commitment was handled by exactly one of them, and nothing was made twice
    assert errors == []
    assert sum(result["status_updates"] for result in results) == 40
    assert sum(result["missed"] for result in results) == 20
    assert Notification.objects.filter(kind=MessageKind.STATUS_UPDATE).count() == 40
    assert Notification.objects.filter(kind=MessageKind.APOLOGY).count() == 20
    assert Notification.objects.filter(kind=MessageKind.ESCALATION).count() == 20  # The owner is the lead.
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.UPDATE_SENT).count() == 40
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.MISSED).count() == 20
    # and a third sweep right after finds nothing
    assert sweeps.run_sweeps(later) == NOTHING
    assert not Notification.objects.filter(status=DeliveryStatus.FAILED).exists()


def test_one_commitment_that_cannot_be_handled_does_not_hold_back_the_others(clock, agent, monkeypatch, caplog):
    # Given three promises whose update is due, one of which the message writer chokes on
    promises = [
        make_commitment(
            actor=agent,
            customer=customer_details(name=f"Customer {index}", email=f"c{index}@example.com", phone=""),
            summary=f"Promise {index}",
            due_at=START + timedelta(days=3),
        )
        for index in range(3)
    ]
    real = wording.render_customer_message

    def choking(commitment, kind, **kwargs):
        if commitment.summary == "Promise 1":
            raise ValueError("cannot write this one")
        return real(commitment, kind, **kwargs)

    monkeypatch.setattr(wording, "render_customer_message", choking)

    # When the sweep runs
    counts = sweep_at(clock, START + timedelta(hours=24))

    # Then the other two got their update, the third is logged and still due for the next run
    assert counts["status_updates"] == 2
    assert [len(made(promise, MessageKind.STATUS_UPDATE)) for promise in promises] == [1, 0, 1]
    assert f"could not handle Commitment #{promises[1].pk}" in caplog.text
    promises[1].refresh_from_db()
    assert promises[1].next_update_at == START + timedelta(hours=24)
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.UPDATE_SENT).count() == 2
