"""What each message says: every kind, to customers (email and text) and to staff.

Each customer message must carry the status link, use plain words without hedging, and give
times in the customer's own zone; staff read times in their team's zone.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from commitments import services
from commitments.models import Channel, Status
from notifications import segments, time_words, wording
from notifications.channels.email import build_email
from notifications.models import CUSTOMER_KINDS, MessageKind
from notifications.wording import frames
from tests.factories import customer_details, make_commitment

pytestmark = pytest.mark.django_db

HEDGING = re.compile(
    r"\b(maybe|perhaps|might|possibly|hopefully|supposedly|i think|i guess|should be|try to|"
    r"sorry you feel|sorry if|if)\b",
    re.IGNORECASE,
)


@pytest.fixture
def now():
    # Tuesday 24 November 2026, 15:00 UTC: 10:00 in New York, 00:00 (Wednesday) in Tokyo.
    with time_machine.travel("2026-11-24 15:00:00Z", tick=False):
        yield timezone.now()


@pytest.fixture
def promise(agent, now):
    """A promise to Dana in Tokyo, due Thursday 26 November 09:00 UTC (18:00 in Tokyo)."""
    return make_commitment(
        actor=agent,
        customer=customer_details(timezone="Asia/Tokyo"),
        summary="Send the repair estimate",
        due_at=now + timedelta(days=1, hours=18),
        update_interval=timedelta(hours=24),
    )


def rendered(commitment, kind, **kwargs):
    email = wording.render_customer_message(commitment, kind, channel=Channel.EMAIL, **kwargs)
    text = wording.render_customer_message(commitment, kind, channel=Channel.SMS, **kwargs)
    return email, text


def state_for(commitment, kind):
    """Put the commitment in the state in which this kind of message is sent, and the words it carries."""
    if kind == MessageKind.WAITING:
        commitment.status, commitment.waiting_request = Status.WAITING, "A photo of the heater's label"
        return {"message": "A photo of the heater's label"}
    if kind in (MessageKind.RESOLUTION, MessageKind.SATISFACTION_CHECK):
        commitment.status, commitment.fulfilled_at = Status.FULFILLED, timezone.now()
        commitment.resolution = "The estimate is attached to your account: 1,240 USD."
        return {"message": commitment.resolution} if kind == MessageKind.RESOLUTION else {}
    if kind == MessageKind.APOLOGY:
        commitment.status = Status.MISSED
        return {}
    if kind == MessageKind.CANCELLATION:
        commitment.status = Status.CANCELLED
        return {"message": "You found another contractor."}
    if kind == MessageKind.RESCHEDULE:
        return {"message": "The supplier's price list arrives on Wednesday."}
    return {}


@pytest.mark.parametrize("kind", sorted(CUSTOMER_KINDS))
def test_every_customer_message_carries_the_status_link_in_plain_words(promise, kind):
    # Given a promise in the state in which this kind of message goes out
    words = state_for(promise, kind)

    # When the message is written for email and for a text
    email, text = rendered(promise, kind, **words)

    # Then both carry the status link, the email in its text and HTML parts
    link = promise.status_url
    assert link in email.text and f'href="{link}"' in email.html and link in text.text
    # and nothing hedges or apologises conditionally
    for part in (email.subject, email.text, text.text):
        assert not HEDGING.search(part), (kind, HEDGING.search(part), part)
    # and the text is GSM-7 and at most two segments long
    assert segments.is_gsm7(text.text) and segments.sms_segments(text.text) <= 2, text.text
    assert email.subject and "\n" not in email.subject


def test_the_acknowledgement_says_what_who_by_when_and_when_we_will_be_back_in_the_customers_zone(promise):
    # Given Dana in Tokyo, her promise due 18:00 Thursday her time, the next update 24 hours on
    # When the acknowledgement is written
    email, text = rendered(promise, MessageKind.ACKNOWLEDGEMENT)

    # Then it says what we promised, who owns it, by when and when she hears next, in Tokyo time
    assert "Send the repair estimate" in email.text
    assert "Alex Rivera" in email.text
    assert "Done by: Thursday 26 November at 6:00 PM JST" in email.text
    assert "You will hear from us by Thursday 26 November at 12:00 AM JST at the latest" in email.text
    assert email.text.startswith("Hi Dana,")
    assert "Thu 26 Nov 6:00 PM JST" in text.text
    # and the HTML shows the same facts
    assert "Thursday 26 November at 6:00 PM JST" in email.html
    assert "Alex Rivera, Home Repairs" in email.html


def test_an_automatic_update_is_honest_that_nothing_changed_since_when_and_says_when_the_next_comes(promise, now):
    # Given a day without news: the last message went out at creation (00:00 Wednesday in Tokyo)
    with time_machine.travel(now + timedelta(hours=24), tick=False):
        promise.last_update_at, since = timezone.now(), promise.last_update_at
        promise.next_update_at = timezone.now() + promise.update_interval

        # When the automatic update is written
        email, text = rendered(promise, MessageKind.STATUS_UPDATE, since=since)

    # Then it says what we are doing, that nothing changed since the last update, and when the next comes
    assert "Alex Rivera is working on it: Send the repair estimate." in email.text
    assert "Nothing has changed since our last update on Wednesday 25 November at 12:00 AM JST" in email.text
    assert "still due by Thursday 26 November at 6:00 PM JST" in email.text
    assert "Next update: by Thursday 26 November at 6:00 PM JST" in email.text  # The due time comes first.
    assert "no change since Wed 25 Nov 12:00 AM JST" in text.text


def test_an_agents_update_carries_their_own_words(promise):
    # When the owner writes an update
    email, text = rendered(promise, MessageKind.STATUS_UPDATE, message="The plumber measured the space today")

    # Then the customer reads those words, with a full stop, and when the next update comes
    assert "The plumber measured the space today." in email.text
    assert "Nothing has changed" not in email.text
    assert text.text.startswith("The plumber measured the space today. Next update by")


def test_an_automatic_update_while_waiting_repeats_exactly_what_we_need(promise):
    # Given we are waiting on Dana for a photo
    promise.status, promise.waiting_request = Status.WAITING, "A photo of the heater's label"

    # When the automatic update is written
    email, _ = rendered(promise, MessageKind.STATUS_UPDATE)

    # Then it repeats what we need from her
    assert "We are still waiting for this from you: A photo of the heater's label." in email.text


def test_a_reschedule_gives_the_new_time_and_the_reason(promise, agent, now):
    # When the owner moves the time with a reason
    new_due = now + timedelta(days=3)
    services.reschedule(actor=agent, commitment=promise, due_at=new_due, reason="The supplier is late")

    # Then Dana's message has the new time in her zone and the reason
    row = promise.notifications.get(kind=MessageKind.RESCHEDULE)
    assert row.subject == "New time for Send the repair estimate: Sat 28 Nov 12:00 AM JST"
    assert "moved the time for Send the repair estimate to Saturday 28 November at 12:00 AM JST" in row.body
    assert "Why: The supplier is late." in row.body


def test_waiting_asks_for_exactly_what_we_need(promise, agent):
    # When the owner asks Dana for something
    services.wait_on_customer(actor=agent, commitment=promise, request="The model number on the heater's label")

    # Then the message asks for exactly that
    row = promise.notifications.get(kind=MessageKind.WAITING)
    assert "we need this from you:\n\nThe model number on the heater's label." in row.body


def test_the_apology_says_plainly_that_we_missed_owns_it_and_says_when_she_hears_next(promise):
    # Given the promise was missed, the next update one interval on
    promise.status = Status.MISSED
    promise.next_update_at = promise.due_at + timedelta(hours=24)

    # When the apology is written
    email, text = rendered(promise, MessageKind.APOLOGY)

    # Then it says we did not keep the promise, owns it without conditions, and says when she hears next
    assert email.subject == "We missed our promise: Send the repair estimate"
    assert "we did not keep that promise. That is our mistake, and we are sorry." in email.text
    assert "You will hear from us by Friday 27 November at 6:00 PM JST" in email.text
    assert "we missed our promise" in text.text
    assert "sorry you feel" not in email.text.lower() and " if " not in email.text.lower()


def test_resolution_satisfaction_check_and_cancellation(promise, now):
    # Given the estimate was sent
    state_for(promise, MessageKind.SATISFACTION_CHECK)
    promise.satisfaction_due_at = now + timedelta(hours=24)

    # When the resolution, the satisfaction check and a cancellation are written
    resolution, _ = rendered(promise, MessageKind.RESOLUTION, message=promise.resolution)
    check, check_text = rendered(promise, MessageKind.SATISFACTION_CHECK)
    promise.status = Status.CANCELLED
    cancellation, _ = rendered(promise, MessageKind.CANCELLATION, message="You found another contractor")

    # Then the resolution says what was done and when we will ask
    assert "What we did: The estimate is attached to your account: 1,240 USD." in resolution.text
    assert "On Thursday 26 November at 12:00 AM JST we will ask whether this solved it for you" in resolution.text
    # and the check asks yes or no with the link
    assert f"Answer yes or no on your status page: {promise.status_url}" in check.text
    assert "Answer yes or no here:" in check_text.text
    # and the cancellation is short
    assert (
        "We have cancelled this: Send the repair estimate.\n\nWhy: You found another contractor." in cancellation.text
    )
    assert len(cancellation.text) < 600


def test_a_long_text_is_cut_to_two_segments_keeping_the_link_and_smart_punctuation_becomes_gsm(promise):
    # Given an agent's long update typed with curly quotes and dashes
    words = "We’ve booked the “premium” plumber — he comes Friday… " + "Details about the parts follow. " * 20

    # When it goes as a text
    text = wording.render_customer_message(promise, MessageKind.STATUS_UPDATE, message=words, channel=Channel.SMS)

    # Then it fits two GSM-7 segments, ends with the status link and has plain punctuation
    assert segments.is_gsm7(text.text)
    assert segments.sms_segments(text.text) == 2
    assert text.text.endswith(promise.status_url)
    assert text.text.startswith('We\'ve booked the "premium" plumber - he comes Friday...')
    assert "..." in text.text and "Next update by" in text.text


# --- Staff ----------------------------------------------------------------------------------


def test_a_warning_to_the_owner_gives_the_time_left_in_the_teams_zone(promise, agent, now):
    # Given the team in New York; the promise is due at 04:00 New York time on Thursday
    with time_machine.travel(promise.due_at - timedelta(hours=4), tick=False):
        # When the owner's warning is written
        content = wording.render_staff_message(
            promise,
            MessageKind.ESCALATION,
            recipient=agent,
            details={"occasion": "warning", "step": 2, "last_step": True},
        )

    # Then it says how long is left, the due time in the team's zone and what to do
    assert content.subject == "Due in 4 hours: Send the repair estimate (Dana Whitfield)"
    assert "Your promise to Dana Whitfield is due in 4 hours, at Thursday 26 November at 4:00 AM EST." in content.text
    assert "Act now: fulfil it, send the customer an update, or reschedule it" in content.text
    assert promise.get_absolute_url() in content.text and promise.get_absolute_url() in content.html


def test_the_lead_is_told_whose_promise_it_is(promise, lead):
    content = wording.render_staff_message(
        promise, MessageKind.ESCALATION, recipient=lead, details={"occasion": "missed"}
    )
    assert content.subject == "Missed: Send the repair estimate (Dana Whitfield)"
    assert "Alex Rivera's promise to Dana Whitfield was due at" in content.text
    assert "You are told as team lead" in content.text
    assert "A reminder follows every day until it is rescheduled, fulfilled or cancelled." in content.text


def test_a_call_task_says_whom_to_call_on_which_number_and_what_to_say(promise, agent, now):
    # Given Dana prefers a call
    script = wording.render_customer_message(promise, MessageKind.ACKNOWLEDGEMENT, channel=Channel.PHONE)

    # When the owner's call task is written (it is daytime nowhere near Tokyo's night: 00:00 there)
    content = wording.render_call_task(
        promise, MessageKind.ACKNOWLEDGEMENT, script=script.text, recipient=agent, escalate_at=now + timedelta(hours=24)
    )

    # Then it names the customer, the number, when to call, what to say and the status link
    assert content.subject == "Call Dana Whitfield: confirm our promise (Send the repair estimate)"
    number = time_words.readable_phone(promise.customer.phone)
    assert f"Call {number} from Wed 25 Nov 8:00 AM JST (it is night for them now)." in content.text
    assert "What to say:\n\nThank you for reaching out." in content.text
    assert promise.status_url in content.text
    assert "A call not logged by Wednesday 25 November at 10:00 AM EST is escalated to the team lead." in content.text


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (8, "8 seconds"),
        (4 * 3600 - 20, "4 hours"),
        (90 * 60, "1 hour 30 minutes"),
        (2 * 86400 + 3 * 3600, "2 days 3 hours"),
    ],
)
def test_durations_are_said_in_words(seconds, words):
    assert time_words.describe_duration(timedelta(seconds=seconds)) == words


# --- Written once per shape, filled in per message --------------------------------------------


@pytest.mark.parametrize("kind", sorted(CUSTOMER_KINDS))
def test_a_message_filled_into_its_frame_reads_exactly_as_one_written_directly(promise, kind):
    # Given words with characters HTML must escape, line breaks, blank lines and trailing spaces
    words = state_for(promise, kind)
    promise.summary = 'Fix the "Smith & Sons" heater <urgent> {soon}'
    words["message"] = "Parts ordered: 2 valves & 1 pipe.  \n\n\n\nThe plumber comes at 9"

    # When the message is written through its frame, and directly through the templates
    framed = wording.render_customer_message(promise, kind, **words)
    context = wording.customer_context(promise, **words)
    direct = frames.render_directly("customer", f"notifications/customer/{kind}.txt", context)

    # Then both read the same, in text and in HTML
    assert framed.subject == segments.gsm_friendly(direct.subject)
    assert framed.text == direct.text
    assert framed.html == direct.html
    assert "Smith &amp; Sons" in framed.html and "&lt;urgent&gt; {soon}" in framed.html


@pytest.mark.parametrize("occasion", ["warning", "missed", "reminder", "call_not_made"])
def test_a_staff_message_filled_into_its_frame_reads_exactly_as_one_written_directly(promise, agent, lead, occasion):
    promise.summary = 'Fix the "Smith & Sons" heater'
    details = {"occasion": occasion, "step": 2, "last_step": True, "call_kind": MessageKind.STATUS_UPDATE}
    details["task_created"] = timezone.now()
    # The owner and the lead get the same words in two shapes ("Your promise", "Alex Rivera's promise").
    framed = wording.render_staff_messages(promise, MessageKind.ESCALATION, recipients=[agent, lead], details=details)
    for content, recipient in zip(framed, [agent, lead], strict=True):
        context = wording.staff_context(promise, recipient=recipient, details=details)
        direct = frames.render_directly("staff", "notifications/staff/escalation.txt", context)
        assert (content.subject, content.text, content.html) == (
            segments.gsm_friendly(direct.subject),
            direct.text,
            direct.html,
        )
    assert framed[0].text != framed[1].text


# --- HTML, drawn when the email is sent -------------------------------------------------------


def test_the_html_version_is_drawn_at_send_time_from_the_text_and_the_facts_kept_with_it(promise):
    # Given the acknowledgement of a promise to Dana, in the outbox: its text and a small layout
    row = promise.notifications.get(kind=MessageKind.ACKNOWLEDGEMENT)
    assert row.html_body == "" and row.layout["form"] == "customer"

    # When it is built for sending
    email = build_email(row)

    # Then the mail has the text as stored and an HTML version saying the same, with the facts
    [(html, mimetype)] = email.alternatives
    assert isinstance(html, str) and mimetype == "text/html" and email.body == row.body
    assert html.startswith("<!doctype html>") and "<title>We are on it: Send the repair estimate</title>" in html
    assert "Thank you for reaching out. Here is our promise to you." in html
    assert "Alex Rivera, Home Repairs" in html and "Thursday 26 November at 6:00 PM JST" in html
    assert f'href="{promise.status_url}"' in html
    # and it is the HTML the message was written with
    written = wording.render_customer_message(promise, MessageKind.ACKNOWLEDGEMENT, now=row.created_at)
    assert written.text == row.body and written.html == html


def test_a_row_that_carries_its_own_html_sends_that(promise):
    # Given a message whose HTML was stored with it (as the outbox did before layouts)
    row = promise.notifications.get(kind=MessageKind.ACKNOWLEDGEMENT)
    row.html_body, row.layout = "<p>We promised: <b>the estimate</b></p>", {}

    # Then that HTML goes out as it is
    [(html, _)] = build_email(row).alternatives
    assert html == "<p>We promised: <b>the estimate</b></p>"


def test_a_text_has_no_html_version(agent, now):
    commitment = make_commitment(actor=agent, customer=customer_details(preferred_channel="sms"))
    row = commitment.notifications.get(kind=MessageKind.ACKNOWLEDGEMENT)
    assert row.layout == {} and wording.email_html(subject=row.subject, text=row.body, layout=row.layout) == ""
