"""What the customer does from their page: confirm, reopen, answer, change how we reach them, unsubscribe."""

import copy
import re
from urllib.parse import urlsplit

import pytest
from django.test import Client

from commitments import services
from commitments.models import Customer, Status, TimelineEvent
from notifications.delivery import deliver
from notifications.models import Audience, MessageKind, Notification
from tests.customer.conftest import link, page_text
from tests.factories import customer_details, make_commitment

pytestmark = pytest.mark.django_db


def alerts_to(commitment, email: str) -> list[Notification]:
    return list(
        Notification.objects.filter(
            commitment=commitment, audience=Audience.STAFF, kind=MessageKind.ALERT, recipient=email
        )
    )


def csrf_token(client: Client, path: str) -> str:
    client.get(path)
    return client.cookies["csrftoken"].value


# --- "Is it resolved?" --------------------------------------------------------------------


def test_yes_it_is_resolved_closes_the_commitment(client, commitment, agent):
    # Given a fulfilled commitment
    services.fulfil(actor=agent, commitment=commitment, resolution="The estimate is in your inbox.")

    # When the customer answers yes
    response = client.post(link(commitment, "resolved"), follow=True)

    # Then it is confirmed and closed, and the page thanks them
    commitment.refresh_from_db()
    assert commitment.status == Status.CONFIRMED
    assert commitment.confirmed_at is not None
    text = page_text(response)
    assert "Thank you for confirming" in text
    assert "Resolved" in text and "You confirmed it's resolved" in text
    assert "Is it resolved?" not in text


def test_the_yes_question_by_get_only_asks(client, commitment, agent):
    services.fulfil(actor=agent, commitment=commitment, resolution="Done.")

    response = client.get(link(commitment, "resolved"))

    assert response.status_code == 200
    assert "Is it resolved?" in page_text(response)
    commitment.refresh_from_db()
    assert commitment.status == Status.FULFILLED


def test_no_still_a_problem_reopens_and_alerts_the_owner_and_team_lead_at_once(client, commitment, agent):
    # Given a fulfilled commitment
    services.fulfil(actor=agent, commitment=commitment, resolution="The heater is fixed.")

    # When the customer opens "No, still a problem", says what is wrong and sends it
    question = client.get(link(commitment, "not-resolved"))
    assert "What is still wrong?" in page_text(question)
    response = client.post(
        link(commitment, "not-resolved"), {"what_is_wrong": "It still makes a knocking noise."}, follow=True
    )

    # Then it is reopened, the owner and the lead are alerted with the customer's words,
    commitment.refresh_from_db()
    assert commitment.status == Status.REOPENED
    for email in ("alex@staff.example.com", "lee@staff.example.com"):
        [alert] = alerts_to(commitment, email)
        assert "It still makes a knocking noise." in alert.body
    # and the customer sees it reopened, with what they told us and when they hear from us next
    text = page_text(response)
    assert "Reopened" in text
    assert "Alex and their team lead have been told" in text
    assert "You told us it's still a problem" in text and "It still makes a knocking noise." in text


def test_no_on_a_commitment_that_is_not_fulfilled_changes_nothing(client, commitment):
    response = client.post(link(commitment, "not-resolved"), {"what_is_wrong": "?"}, follow=True)

    commitment.refresh_from_db()
    assert commitment.status == Status.OPEN
    assert "already open" in page_text(response)
    assert not Notification.objects.filter(commitment=commitment, audience=Audience.STAFF).exists()


def test_actions_need_the_pages_csrf_token(csrf_client, commitment, agent):
    services.fulfil(actor=agent, commitment=commitment, resolution="Done.")

    forged = csrf_client.post(link(commitment, "resolved"))
    assert forged.status_code == 403
    commitment.refresh_from_db()
    assert commitment.status == Status.FULFILLED

    token = csrf_token(csrf_client, link(commitment, "resolved"))
    assert csrf_client.post(link(commitment, "resolved"), {"csrfmiddlewaretoken": token}).status_code == 302
    commitment.refresh_from_db()
    assert commitment.status == Status.CONFIRMED


# --- Waiting on the customer ----------------------------------------------------------------


def test_the_customers_answer_lands_on_the_timeline_and_resumes_the_commitment(client, commitment, agent):
    # Given we wait on a photo from the customer
    services.wait_on_customer(actor=agent, commitment=commitment, request="A photo of the serial plate.")

    # When they answer on their page
    response = client.post(link(commitment, "answer"), {"answer": "Photo attached: SN 48213-B."}, follow=True)

    # Then their answer is on the timeline, the clock runs again and the owner hears of it
    commitment.refresh_from_db()
    assert commitment.status == Status.OPEN
    reply = TimelineEvent.objects.get(commitment=commitment, kind=TimelineEvent.Kind.CUSTOMER_REPLY)
    assert reply.message == "Photo attached: SN 48213-B."
    assert reply.actor_label == "customer"
    [alert] = alerts_to(commitment, "alex@staff.example.com")
    assert "Photo attached: SN 48213-B." in alert.body
    text = page_text(response)
    assert "we have your answer" in text
    assert "We need something from you" not in text
    assert "You wrote us" in text


def test_an_empty_answer_is_refused_and_changes_nothing(client, commitment, agent):
    services.wait_on_customer(actor=agent, commitment=commitment, request="A photo of the serial plate.")

    response = client.post(link(commitment, "answer"), {"answer": "   "})

    assert response.status_code == 200
    assert "Write your answer before sending it." in page_text(response)
    commitment.refresh_from_db()
    assert commitment.status == Status.WAITING
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.CUSTOMER_REPLY).exists()


def test_an_answer_when_we_are_not_waiting_changes_nothing(client, commitment):
    response = client.post(link(commitment, "answer"), {"answer": "Here you go"}, follow=True)

    assert "aren't waiting on anything" in page_text(response)
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.CUSTOMER_REPLY).exists()


# --- How we reach the customer --------------------------------------------------------------


def preferences(commitment, **overrides: object) -> dict:
    """The preferences form as the customer submits it: what is on file, with their changes."""
    customer = Customer.objects.get(pk=commitment.customer_id)
    values: dict = {
        "preferred_channel": customer.preferred_channel,
        "email": customer.email,
        "phone": customer.phone,
        "texts_allowed": "on",
        "email_updates": "on",
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def test_the_preferences_page_shows_the_current_choices_with_labels(client, commitment):
    text = page_text(client.get(link(commitment, "preferences")))

    assert "How should we reach you?" in text
    for label in ("Email address", "Mobile phone number", "You may send me text messages"):
        assert label in text
    # The contacts on file are masked: whoever holds the link does not learn them
    assert 'value="d•••@example.com"' in text
    assert "dana@example.com" not in text
    assert re.search(r'value="email"[^>]*checked', text)
    assert re.search(r'name="texts_allowed"[^>]*checked', text)


def test_switching_to_texts_is_saved_recorded_and_told_to_the_owner(client, commitment):
    # When the customer chooses texts, with a national number
    client.post(
        link(commitment, "preferences"),
        preferences(commitment, preferred_channel="sms", phone="(555) 555-0188"),
    )

    # (A new number is used once confirmed from the text sent to it.)
    assert Customer.objects.get(pk=commitment.customer_id).preferred_channel == "email"
    [check] = Notification.objects.filter(commitment=commitment, recipient="+15555550188")
    confirm_path = urlsplit(re.findall(r"https?://\S+", check.body)[0]).path
    # (opened on the phone that got the text: another browser)
    assert "it's confirmed" in page_text(Client().post(confirm_path))
    response = client.get(link(commitment))

    # Then the customer is reached by text at the normalized number
    customer = Customer.objects.get(pk=commitment.customer_id)
    assert customer.preferred_channel == "sms"
    assert customer.phone == "+15555550188"
    # and the change is on the timeline and the owner is told
    event = TimelineEvent.objects.get(commitment=commitment, kind=TimelineEvent.Kind.PREFERENCES)
    assert event.actor_label == "customer"
    assert event.data["changes"]["preferred_channel"] == ["email", "sms"]
    [alert] = alerts_to(commitment, "alex@staff.example.com")
    assert "Email → Text message" in alert.body
    # and the customer sees it, without their number on the page's history
    text = page_text(response)
    assert "Saved." in text
    assert "We now reach you by text message." in text
    assert "You updated your phone number." in text


def test_a_channel_needs_its_contact(client, commitment):
    response = client.post(link(commitment, "preferences"), preferences(commitment, preferred_channel="sms", phone=""))

    assert response.status_code == 200
    assert "Enter your phone number" in page_text(response)
    assert Customer.objects.get(pk=commitment.customer_id).preferred_channel == "email"
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.PREFERENCES).exists()


def test_a_bad_email_or_phone_is_refused(client, commitment):
    response = client.post(link(commitment, "preferences"), preferences(commitment, email="not-an-email", phone="12"))

    text = page_text(response)
    assert "Enter a valid email address." in text
    assert "Enter a valid phone number" in text
    assert Customer.objects.get(pk=commitment.customer_id).email == "dana@example.com"


def test_texts_cannot_be_both_chosen_and_stopped(client, commitment):
    response = client.post(
        link(commitment, "preferences"), preferences(commitment, preferred_channel="sms", texts_allowed=None)
    )

    assert "You asked us not to text you" in page_text(response)
    assert Customer.objects.get(pk=commitment.customer_id).sms_opted_out is False


def test_another_customers_email_is_refused_without_saying_whose_it_is(client, commitment, agent):
    make_commitment(
        actor=agent, customer=customer_details(name="Ravi Patel", email="ravi@example.com", phone="+15555550177")
    )

    response = client.post(link(commitment, "preferences"), preferences(commitment, email="ravi@example.com"))

    text = page_text(response)
    assert "We can't use this email address here." in text
    assert "Ravi" not in text
    assert Customer.objects.get(pk=commitment.customer_id).email == "dana@example.com"


def test_stopping_texts_reaches_every_open_commitment_of_the_customer(client, commitment, agent, colleague):
    # Given a second open promise to the same customer, owned by Sam
    other = make_commitment(actor=colleague, summary="Book the plumber")

    # When the customer stops texts from the first one's page
    client.post(link(commitment, "preferences"), preferences(commitment, texts_allowed=None))

    # Then no more texts, noted on both commitments and told to both owners
    assert Customer.objects.get(pk=commitment.customer_id).sms_opted_out is True
    for promise, owner in ((commitment, "alex"), (other, "sam")):
        assert TimelineEvent.objects.filter(commitment=promise, kind=TimelineEvent.Kind.PREFERENCES).count() == 1
        [alert] = alerts_to(promise, f"{owner}@staff.example.com")
        assert "text messages: stopped" in alert.body


def test_saving_unchanged_preferences_records_nothing(client, commitment):
    client.post(link(commitment, "preferences"), preferences(commitment))

    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.PREFERENCES).exists()
    assert not Notification.objects.filter(audience=Audience.STAFF).exists()


# --- Email one-click unsubscribe (RFC 8058) -------------------------------------------------


def test_one_click_unsubscribe_stops_automatic_emails_and_tells_the_owner(csrf_client, commitment):
    # When the mail provider POSTs the RFC 8058 body, with no cookie and no CSRF token
    response = csrf_client.post(
        link(commitment, "unsubscribe"),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    # Then it is accepted, the customer gets no more automatic email updates, and the owner knows the promise stands
    assert response.status_code == 200
    assert Customer.objects.get(pk=commitment.customer_id).email_updates_opted_out is True
    [alert] = alerts_to(commitment, "alex@staff.example.com")
    assert "unsubscribed from automatic email updates" in alert.body
    assert "promise still stands" in alert.body
    commitment.refresh_from_db()
    assert commitment.status == Status.OPEN

    # And a second click changes nothing more
    csrf_client.post(
        link(commitment, "unsubscribe"), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert len(alerts_to(commitment, "alex@staff.example.com")) == 1


def test_the_unsubscribe_page_asks_first_and_its_button_needs_the_csrf_token(csrf_client, commitment):
    # Given the link opened in a browser: a question and a button, nothing changed yet
    question = csrf_client.get(link(commitment, "unsubscribe"))
    assert "Stop regular email updates?" in page_text(question)
    assert Customer.objects.get(pk=commitment.customer_id).email_updates_opted_out is False

    # When a form elsewhere posts to it without the token, it is refused
    assert csrf_client.post(link(commitment, "unsubscribe"), {}).status_code == 403
    assert Customer.objects.get(pk=commitment.customer_id).email_updates_opted_out is False

    # When the customer presses the button
    token = csrf_client.cookies["csrftoken"].value
    response = csrf_client.post(link(commitment, "unsubscribe"), {"csrfmiddlewaretoken": token})

    # Then they are unsubscribed
    assert response.status_code == 200
    assert "You're unsubscribed" in page_text(response)
    assert Customer.objects.get(pk=commitment.customer_id).email_updates_opted_out is True


# --- Rate limits ----------------------------------------------------------------------------


@pytest.fixture
def tight_limits(settings):
    rest = copy.deepcopy(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"].update({"customer": "3/min", "inbound": "3/min"})
    settings.REST_FRAMEWORK = rest


def test_too_many_requests_on_one_link_get_429(client, commitment, tight_limits):
    for _ in range(3):
        assert client.get(link(commitment)).status_code == 200

    response = client.get(link(commitment))

    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    assert response["Retry-After"] == "60"


def test_guessing_tokens_from_one_address_is_stopped(client, tight_limits):
    statuses = [client.get(f"/s/guess{number}/").status_code for number in range(4)]

    assert statuses == [404, 404, 404, 429]


def test_the_limit_is_per_client_address_and_per_link(client, agent, tight_limits):
    # Given two customers' links, used from two addresses
    first = make_commitment(actor=agent)
    second = make_commitment(
        actor=agent, customer=customer_details(name="Ravi Patel", email="ravi@example.com", phone="+15555550177")
    )
    for _ in range(3):
        client.get(link(first), REMOTE_ADDR="203.0.113.1")

    # When the first link is used from another address, it is still limited (per link);
    assert client.get(link(first), REMOTE_ADDR="203.0.113.2").status_code == 429
    # and the other link from the first address is limited (per address), but not from a fresh one
    assert client.get(link(second), REMOTE_ADDR="203.0.113.1").status_code == 429
    assert client.get(link(second), REMOTE_ADDR="203.0.113.3").status_code == 200


def test_the_list_unsubscribe_header_of_a_real_email_works_with_one_click(
    csrf_client, mail_server, commitment, settings
):
    # Given the acknowledgement email, delivered to a real mail server
    settings.SITE_URL = "https://support.example.com"
    deliver(list(Notification.objects.filter(commitment=commitment).values_list("pk", flat=True)))
    [email] = mail_server.to("dana@example.com")
    assert email["List-Unsubscribe-Post"].strip() == "List-Unsubscribe=One-Click"
    url = email["List-Unsubscribe"].strip().strip("<>")
    assert url.startswith("https://support.example.com/s/")

    # When the mail provider makes the one-click POST to that address
    response = csrf_client.post(
        urlsplit(url).path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    # Then the customer is unsubscribed from automatic updates
    assert response.status_code == 200
    assert Customer.objects.get(pk=commitment.customer_id).email_updates_opted_out is True
