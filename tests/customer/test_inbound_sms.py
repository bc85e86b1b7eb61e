"""Texts from customers, as Twilio delivers them to /hooks/sms/twilio/ (signed with our auth token)."""

import copy
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from commitments import services
from commitments.models import Customer, TimelineEvent
from notifications.models import Audience, MessageKind, Notification
from tests.factories import customer_details, make_commitment

pytestmark = pytest.mark.django_db

AUTH_TOKEN = "twilio-test-auth-token"
SITE = "https://support.example.com"
HOOK = "/hooks/sms/twilio/"


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.SITE_URL = SITE


def twilio_fields(from_number: str, body: str, sid: str = "SM0001") -> dict[str, str]:
    return {
        "MessageSid": sid,
        "AccountSid": "AC00000000000000000000000000000000",
        "From": from_number,
        "To": "+15555550100",
        "Body": body,
        "NumSegments": "1",
    }


def sign(fields: dict[str, str], url: str = SITE + HOOK, token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, fields)


def text_in(client, from_number: str, body: str, *, sid: str = "SM0001", signature: str | None = None, **extra):
    """POST a text the way Twilio does: form-encoded fields and X-Twilio-Signature."""
    fields = twilio_fields(from_number, body, sid)
    headers = {} if signature == "" else {"HTTP_X_TWILIO_SIGNATURE": signature or sign(fields)}
    return client.post(HOOK, urlencode(fields), content_type="application/x-www-form-urlencoded", **headers, **extra)


def reply_of(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    return response.content.decode()


@pytest.fixture
def phone(commitment) -> str:
    return Customer.objects.get(pk=commitment.customer_id).phone


# --- Signatures -----------------------------------------------------------------------------


def test_a_signed_text_is_accepted(client, commitment, phone):
    assert "<Response" in reply_of(text_in(client, phone, "Thanks, see you Thursday"))


@pytest.mark.parametrize(
    "signature",
    [
        "",  # missing
        "bm90IGEgc2lnbmF0dXJl",  # made up
        sign(twilio_fields("+12025550123", "Thanks"), token="someone-elses-token"),
        sign(twilio_fields("+12025550123", "Thanks"), url="https://attacker.example.com" + HOOK),
        sign(twilio_fields("+12025550123", "A different body")),  # signed for other fields
    ],
    ids=["missing", "garbage", "wrong-token", "wrong-url", "tampered-body"],
)
def test_a_bad_signature_is_refused_and_changes_nothing(client, commitment, signature):
    response = text_in(client, "+12025550123", "Thanks", signature=signature)

    assert response.status_code == 403
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.CUSTOMER_REPLY).exists()
    assert not Notification.objects.filter(audience=Audience.STAFF).exists()


def test_without_an_auth_token_configured_nothing_is_accepted(client, commitment, phone, settings):
    settings.TWILIO_AUTH_TOKEN = ""

    assert text_in(client, phone, "STOP", signature=sign(twilio_fields(phone, "STOP"), token="x")).status_code == 403
    assert Customer.objects.get(phone=phone).sms_opted_out is False


def test_the_hook_takes_only_post(client):
    assert client.get(HOOK).status_code == 405


# --- STOP, START, HELP ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "word", ["STOP", "stop", " Stop. ", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]
)
def test_an_opt_out_word_stops_texts_to_that_number(client, commitment, phone, word):
    # When the customer texts an opt-out word
    response = text_in(client, phone, word)

    # Then we text them no more (Twilio confirms to them itself, so our answer is empty)
    assert "<Message>" not in reply_of(response)
    assert Customer.objects.get(phone=phone).sms_opted_out is True
    # and the owner and the timeline know
    event = TimelineEvent.objects.get(commitment=commitment, kind=TimelineEvent.Kind.PREFERENCES)
    assert event.data["changes"] == {"sms_opted_out": [False, True]}
    [alert] = Notification.objects.filter(
        commitment=commitment, kind=MessageKind.ALERT, recipient="alex@staff.example.com"
    )
    assert "they get no more texts" in alert.body
    assert "by email" in alert.body


def test_start_resumes_texts_after_stop(client, commitment, phone):
    text_in(client, phone, "STOP", sid="SM1")

    response = text_in(client, phone, "START", sid="SM2")

    assert "<Message>" not in reply_of(response)
    assert Customer.objects.get(phone=phone).sms_opted_out is False
    kinds = list(
        TimelineEvent.objects.filter(commitment=commitment, kind=TimelineEvent.Kind.PREFERENCES).values_list(
            "data__changes__sms_opted_out", flat=True
        )
    )
    assert kinds == [[False, True], [True, False]]


@pytest.mark.parametrize("word", ["YES", "UNSTOP"])
def test_the_other_opt_in_words_resume_texts_too(client, commitment, phone, word):
    text_in(client, phone, "STOP", sid="SM1")
    text_in(client, phone, word, sid="SM2")

    assert Customer.objects.get(phone=phone).sms_opted_out is False


def test_a_repeated_stop_tells_the_owner_once(client, commitment, phone):
    text_in(client, phone, "STOP", sid="SM1")
    text_in(client, phone, "STOP", sid="SM2")

    assert Notification.objects.filter(commitment=commitment, kind=MessageKind.ALERT).count() == 1


@pytest.mark.parametrize("word", ["HELP", "help", "INFO"])
def test_help_answers_with_who_we_are_and_how_to_stop(client, commitment, phone, word):
    reply = reply_of(text_in(client, phone, word))

    assert "<Message>Home Repairs:" in reply
    assert "Reply STOP to stop texts" in reply
    assert Customer.objects.get(phone=phone).sms_opted_out is False
    assert not Notification.objects.filter(audience=Audience.STAFF).exists()
    assert TimelineEvent.objects.filter(commitment=commitment, data__keyword=word.upper()).exists()


# --- Replies ----------------------------------------------------------------------------------


def test_any_other_text_lands_on_the_most_recent_open_commitment_and_alerts_its_owner(
    client, agent, colleague, phone, commitment
):
    # Given three promises to the customer: a confirmed one, and two open ones, Sam's updated most recently
    closed = make_commitment(actor=agent, summary="Old job")
    services.fulfil(actor=agent, commitment=closed, resolution="Done.")
    services.confirm(commitment=closed)
    recent = make_commitment(actor=colleague, summary="Book the plumber")
    services.send_update(actor=colleague, commitment=recent, message="The plumber comes Friday.")

    # When the customer texts back
    response = text_in(client, phone, "Friday works, thanks!")

    # Then the reply is on Sam's commitment, and Sam is alerted with the customer's words
    assert "<Message>" not in reply_of(response)
    reply = TimelineEvent.objects.get(kind=TimelineEvent.Kind.CUSTOMER_REPLY)
    assert reply.commitment_id == recent.pk
    assert reply.message == "Friday works, thanks!"
    assert reply.actor_label == "customer"
    [alert] = Notification.objects.filter(kind=MessageKind.ALERT)
    assert alert.commitment_id == recent.pk
    assert alert.recipient == "sam@staff.example.com"
    assert "Friday works, thanks!" in alert.body


def test_a_text_when_nothing_is_open_still_reaches_the_latest_owner(client, commitment, agent, phone):
    services.fulfil(actor=agent, commitment=commitment, resolution="Done.")
    services.confirm(commitment=commitment)

    text_in(client, phone, "Actually it broke again")

    assert TimelineEvent.objects.get(kind=TimelineEvent.Kind.CUSTOMER_REPLY).commitment_id == commitment.pk
    assert Notification.objects.filter(kind=MessageKind.ALERT, recipient="alex@staff.example.com").count() == 1


def test_a_text_delivered_twice_is_recorded_once(client, commitment, phone):
    text_in(client, phone, "On my way home now", sid="SMrepeat")
    text_in(client, phone, "On my way home now", sid="SMrepeat")

    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.CUSTOMER_REPLY).count() == 1
    assert Notification.objects.filter(kind=MessageKind.ALERT).count() == 1


def test_a_reply_while_we_wait_tells_the_owner_to_resume(client, commitment, agent, phone):
    services.wait_on_customer(actor=agent, commitment=commitment, request="The serial number, please.")

    text_in(client, phone, "SN 48213-B")

    [alert] = Notification.objects.filter(kind=MessageKind.ALERT)
    assert "resume the commitment" in alert.body
    commitment.refresh_from_db()
    assert commitment.status == "waiting"  # The owner decides whether this was what we asked for.


def test_a_text_from_an_unknown_number_gets_an_empty_answer(client, commitment):
    response = text_in(client, "+12025550999", "Who is this?")

    assert reply_of(response).endswith("<Response />")
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.CUSTOMER_REPLY).exists()
    assert not Notification.objects.filter(audience=Audience.STAFF).exists()


def test_stop_from_a_customer_with_no_open_commitment_still_stops_texts(client, agent):
    commitment = make_commitment(actor=agent, customer=customer_details(phone="+12025550144", preferred_channel="sms"))
    services.cancel(actor=agent, commitment=commitment, reason="Customer sorted it out themselves.")

    text_in(client, "+12025550144", "STOP")

    assert Customer.objects.get(phone="+12025550144").sms_opted_out is True


# --- Rate limit ---------------------------------------------------------------------------------


def test_a_flood_of_texts_gets_429(client, commitment, phone, settings):
    rest = copy.deepcopy(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"].update({"customer": "3/min", "inbound": "3/min"})
    settings.REST_FRAMEWORK = rest

    statuses = [text_in(client, phone, f"message {n}", sid=f"SM{n}").status_code for n in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.CUSTOMER_REPLY).count() == 3


def test_help_from_an_unknown_number_is_still_answered_as_carriers_require(client, commitment):
    reply = reply_of(text_in(client, "+12025550999", "HELP"))

    assert "<Message>Followthrough:" in reply
    assert "Reply STOP" in reply
    assert not TimelineEvent.objects.exists() or not TimelineEvent.objects.filter(data__keyword="HELP").exists()
