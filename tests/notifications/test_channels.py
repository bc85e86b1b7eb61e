"""Each channel against a real server that speaks its protocol: what goes out, and how refusals read."""

import logging
import re

import pytest
from django.conf import settings

from commitments.status_links import token_for, unsubscribe_token
from notifications import outbox
from notifications.channels import Channels, PermanentFailure, TransientFailure
from notifications.channels.email import EmailChannel
from notifications.channels.sms import SmsChannel
from notifications.models import MessageKind, Notification
from tests.factories import customer_details, make_commitment


@pytest.fixture
def acknowledgement(agent) -> Notification:
    """The acknowledgement of a fresh promise to Dana, waiting in the outbox."""
    commitment = make_commitment(actor=agent)
    return commitment.notifications.get(kind=MessageKind.ACKNOWLEDGEMENT)


@pytest.fixture
def text(agent, daytime_zone) -> Notification:
    """The acknowledgement of a promise to a customer who prefers texts."""
    commitment = make_commitment(actor=agent, customer=customer_details(preferred_channel="sms", timezone=daytime_zone))
    return commitment.notifications.get(kind=MessageKind.ACKNOWLEDGEMENT)


# --- Email ----------------------------------------------------------------------------------


def test_customer_mail_carries_text_html_a_stable_message_id_and_one_click_unsubscribe(mail_server, acknowledgement):
    # Given an acknowledgement with an HTML version
    Notification.objects.filter(pk=acknowledgement.pk).update(html_body="<p>We promised: <b>the estimate</b></p>")
    acknowledgement.refresh_from_db()

    # When it is sent
    EmailChannel().send(acknowledgement)

    # Then Dana's mailbox has it from us, with both versions and the headers mail clients act on
    [received] = mail_server.to("dana@example.com")
    assert received["From"] == settings.DEFAULT_FROM_EMAIL
    assert received["Subject"] == acknowledgement.subject
    assert received["Message-ID"] == acknowledgement.message_id
    # The unsubscribe link has a token of its own, not the status link's.
    token = unsubscribe_token(acknowledgement.commitment)
    assert token != token_for(acknowledgement.commitment.status_token_nonce)
    # (A long header may be folded onto the next line; unfolded, it is the link itself.)
    assert received["List-Unsubscribe"].strip() == f"<{settings.SITE_URL}/s/{token}/unsubscribe/>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received.get_body(("plain",)).get_content().splitlines() == acknowledgement.body.splitlines()
    assert "<b>the estimate</b>" in received.get_body(("html",)).get_content()


def test_the_one_click_unsubscribe_in_the_header_works(mail_server, acknowledgement, client):
    # Given Dana's mail client read the List-Unsubscribe header of our mail
    EmailChannel().send(acknowledgement)
    [received] = mail_server.to("dana@example.com")
    link = received["List-Unsubscribe"].strip().strip("<>")

    # When it makes the RFC 8058 one-click POST to that link (no cookies, no CSRF token)
    response = client.post(link.removeprefix(settings.SITE_URL), {"List-Unsubscribe": "One-Click"})

    # Then Dana gets no more automatic updates by email
    assert response.status_code == 200
    acknowledgement.commitment.customer.refresh_from_db()
    assert acknowledgement.commitment.customer.email_updates_opted_out


def test_staff_mail_has_no_unsubscribe_header(mail_server, agent, lead):
    # Given an escalation to the team lead in the outbox
    commitment = make_commitment(actor=agent)
    [escalation] = outbox.notify_staff(
        commitment,
        MessageKind.ESCALATION,
        recipients=[lead],
        key=f"{commitment.pk}:test-escalation",
        message="Due soon",
    )

    # When it is sent
    EmailChannel().send(escalation)

    # Then the lead gets it, with our Message-ID and no unsubscribe link (staff cannot opt out)
    [received] = mail_server.to(lead.email)
    assert received["Message-ID"] == escalation.message_id
    assert received["List-Unsubscribe"] is None


@pytest.mark.parametrize(
    ("mode", "failure", "reason"),
    [
        ("tempfail", TransientFailure, "451"),
        ("tempfail_data", TransientFailure, "451"),
        ("reject", PermanentFailure, "550"),
    ],
)
def test_mail_server_answers_are_classed_by_their_code(mail_server, acknowledgement, mode, failure, reason):
    # Given a mail server that answers with this code
    mail_server.mode = mode

    # When the acknowledgement is sent, then the failure says so and is transient (4xx) or permanent (5xx)
    with pytest.raises(failure, match=reason):
        EmailChannel().send(acknowledgement)
    assert mail_server.messages == []


def test_mail_server_down_is_a_transient_failure(mail_server, acknowledgement):
    # Given the mail server is down
    mail_server.stop()

    # When the acknowledgement is sent, then it is worth trying again later
    with pytest.raises(TransientFailure, match="Could not reach the SMTP server"):
        EmailChannel().send(acknowledgement)


def test_one_connection_carries_the_next_message_after_a_refusal(mail_server, agent, acknowledgement):
    # Given a second customer whose address the server refuses, and one channel for both messages
    other = make_commitment(actor=agent, customer=customer_details(name="Ola", email="gone@example.com", phone=""))
    refused = other.notifications.get(kind=MessageKind.ACKNOWLEDGEMENT)
    mail_server.reject_recipients = {"gone@example.com"}
    channel = EmailChannel()

    # When the refused one goes first, then Dana's still arrives
    with pytest.raises(PermanentFailure):
        channel.send(refused)
    channel.send(acknowledgement)
    channel.close()
    assert len(mail_server.to("dana@example.com")) == 1


# --- SMS: console, webhook ------------------------------------------------------------------


def test_console_backend_writes_the_text_to_the_log(settings, text, caplog):
    settings.SMS_BACKEND = "console"
    with caplog.at_level(logging.INFO, logger="notifications.channels.sms"):
        SmsChannel().send(text)
    assert text.recipient in caplog.text
    assert text.body.strip().splitlines()[0] in caplog.text


def test_webhook_gets_the_contract_json(sms_webhook, text):
    # When the text is sent through the webhook backend
    SmsChannel().send(text)

    # Then the gateway got to, body and the notification's own idempotency key, as JSON
    [received] = sms_webhook.to("+12025550123")
    assert received["body"] == text.body
    assert received["idempotency_key"] == text.idempotency_key
    assert received["headers"]["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("status", "failure"),
    [(400, PermanentFailure), (404, PermanentFailure), (429, TransientFailure), (500, TransientFailure)],
)
def test_webhook_answers_are_classed_by_status(sms_webhook, text, status, failure):
    sms_webhook.status = status
    with pytest.raises(failure, match=str(status)):
        SmsChannel().send(text)


def test_webhook_that_does_not_answer_in_time_is_a_transient_failure(sms_webhook, text):
    # Given a gateway that hangs longer than SMS_TIMEOUT (1s here)
    sms_webhook.stall_next, sms_webhook.stall_seconds = 1, 3

    with pytest.raises(TransientFailure, match="did not answer within"):
        SmsChannel().send(text)


def test_webhook_refusing_connections_is_a_transient_failure(sms_webhook, text):
    sms_webhook.stop()
    with pytest.raises(TransientFailure, match="Could not reach the SMS webhook"):
        SmsChannel().send(text)


# --- SMS: Twilio ----------------------------------------------------------------------------


def test_twilio_sends_through_the_official_sdk(twilio_api, text):
    # When the text is sent with SMS_BACKEND=twilio
    sid = SmsChannel().send(text)

    # Then Twilio's Messages API got it from our number, and its message id came back
    [received] = twilio_api.to("+12025550123")
    assert received["from"] == twilio_api.from_number
    assert received["body"] == text.body
    assert sid == received["sid"]


@pytest.mark.parametrize(
    ("setup", "failure", "reason"),
    [
        (lambda api: api.unsubscribed.add("+12025550123"), PermanentFailure, "21610"),
        (lambda api: api.answers.append(500), TransientFailure, "500"),
        (lambda api: api.answers.append(429), TransientFailure, "429"),
        (lambda api: setattr(api, "auth_token", "rotated"), TransientFailure, "TWILIO_AUTH_TOKEN"),
    ],
    ids=["unsubscribed", "server-error", "too-many-requests", "bad-credentials"],
)
def test_twilio_errors_are_classed_by_status(twilio_api, text, setup, failure, reason):
    setup(twilio_api)
    with pytest.raises(failure, match=reason):
        SmsChannel().send(text)
    assert twilio_api.messages == []


def test_twilio_invalid_number_is_a_permanent_failure(twilio_api, text):
    # Given a row whose number Twilio cannot read
    text.recipient = "12345"

    with pytest.raises(PermanentFailure, match="21211"):
        SmsChannel().send(text)


def test_twilio_unreachable_is_a_transient_failure(twilio_api, text):
    twilio_api.stop()
    with pytest.raises(TransientFailure, match="Could not reach Twilio"):
        SmsChannel().send(text)


# --- Phone ----------------------------------------------------------------------------------


def test_a_phone_row_is_refused_plainly_rather_than_called(acknowledgement):
    acknowledgement.channel = "phone"
    with pytest.raises(PermanentFailure, match="not placed automatically"):
        Channels().send(acknowledgement)


# --- How an email is written ------------------------------------------------------------------


def _undated(raw: bytes) -> bytes:
    """The bytes but for what differs on every writing: the Date, a made-up Message-ID, the boundary."""
    raw = re.sub(rb"={15}\d+==(\.\d+)?", b"(boundary)", raw)
    raw = re.sub(rb"Date: [^\r\n]*", b"Date: (now)", raw)
    return re.sub(rb"Message-ID: (\r\n )?<[^>]*>", b"Message-ID: (made up)", raw)


LONG_LINK = "<https://status.example.com/s/" + "t" * 90 + "/unsubscribe/>"


@pytest.mark.parametrize(
    ("subject", "body", "html", "headers", "to"),
    [
        ("Your estimate", "We promised the estimate.\n", None, {"Message-ID": "<1@x>"}, ["dana@example.com"]),
        ("Your estimate", "Line one\r\nline two\rthree\n\n", "<p>Hi</p>\n", {"Message-ID": "<1@x>"}, ["d@example.com"]),
        ("Rückruf – Kostenvoranschlag für Zoë " * 3, "Grüße\n", "<p>é</p>", {}, ["Zoë Ångström <z@example.com>"]),
        (
            "word " * 25,
            "x" * 998,
            "--===============0000000000000000001==\n",
            {"List-Unsubscribe": LONG_LINK},
            ["a@b.co"],
        ),
        (
            "  spaced  out ",
            "tail\n\n\n",
            "<p>\u2028</p>",
            {"Date": "Mon, 1 Jan 2024 09:00:00 -0000", "X-Note": "Zoë"},
            [],
        ),
    ],
)
def test_a_message_is_written_byte_for_byte_as_djangos_writer_writes_it(subject, body, html, headers, to):
    from django.core.mail import EmailMultiAlternatives

    from notifications.channels import mime
    from notifications.channels.smtp import QUICK_FOLDING_CRLF, message_bytes

    # Given a message of our shape (text, perhaps an HTML version), its headers folding every way
    message = EmailMultiAlternatives(
        subject=subject, body=body, to=to, reply_to=["r@example.com"], headers={**headers, "To": "t@example.com"}
    )
    if html is not None:
        message.attach_alternative(html, "text/html")

    # When it is written directly
    written = mime.message_bytes(message, QUICK_FOLDING_CRLF)

    # Then it is what Django and the email package make of it, byte for byte
    assert written is not None
    assert _undated(written) == _undated(message_bytes(message.message()))


def test_a_message_of_another_shape_is_left_to_djangos_writer():
    from django.core.mail import EmailMultiAlternatives

    from notifications.channels import mime
    from notifications.channels.smtp import QUICK_FOLDING_CRLF

    # Given messages Django writes differently: a line too long for SMTP (quoted-printable), an
    # attachment, a copy to someone else, an HTML body of its own
    too_long = EmailMultiAlternatives(subject="Hi", body="x" * 999, to=["a@example.com"])
    attached = EmailMultiAlternatives(subject="Hi", body="See the file", to=["a@example.com"])
    attached.attach("estimate.txt", "42", "text/plain")
    copied = EmailMultiAlternatives(subject="Hi", body="Hello", to=["a@example.com"], cc=["b@example.com"])
    html_only = EmailMultiAlternatives(subject="Hi", body="<p>Hello</p>", to=["a@example.com"])
    html_only.content_subtype = "html"
    others = (too_long, attached, copied, html_only)

    # When each is to be written directly, then none is
    assert [mime.message_bytes(message, QUICK_FOLDING_CRLF) for message in others] == [None] * len(others)


@pytest.mark.parametrize(
    "recipient",
    ["dana@example.com", "O'Brien+estimates@Mail.Example.COM", "Dana Smith <dana@example.com>", "zoë@example.com"],
)
def test_the_mail_server_is_given_the_envelope_djangos_own_backend_gives_it(mail_server, acknowledgement, recipient):
    from django.core.mail import get_connection

    from notifications.channels.email import build_email

    # Given an acknowledgement to an address plain or not
    Notification.objects.filter(pk=acknowledgement.pk).update(recipient=recipient)
    acknowledgement.refresh_from_db()
    envelopes: list[tuple[str, list[str]]] = []
    accept = mail_server.handle_DATA

    async def handle_DATA(server, session, envelope):
        envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return await accept(server, session, envelope)

    mail_server.handle_DATA = handle_DATA

    # When it is sent by delivery, and once more by Django's own SMTP backend
    EmailChannel().send(acknowledgement)
    with get_connection("django.core.mail.backends.smtp.EmailBackend") as django_backend:
        django_backend.send_messages([build_email(acknowledgement)])

    # Then the server was asked to deliver both from the same sender to the same address
    assert len(envelopes) == 2
    assert envelopes[0][0] == settings.DEFAULT_FROM_EMAIL
    assert envelopes[0] == envelopes[1]


def test_headers_written_directly_are_what_the_email_package_folds_them_into():
    import random
    import string
    from email._policybase import compat32

    from django.core.mail.message import forbid_multi_line_headers

    from notifications.channels import mime
    from notifications.channels.smtp import QUICK_FOLDING, QUICK_FOLDING_CRLF

    def written(how, *args):
        try:
            return how(*args)
        except Exception as error:  # Refused alike (an embedded header, a line break) is alike too.
            return type(error)

    # Given header values of every length around a line's end: single words (a long unsubscribe
    # link), words with spaces and tabs, control characters that break lines, non-ASCII
    choices = random.Random(15)
    pools = [
        string.ascii_letters + "<>:/.-=@",
        string.ascii_letters + " ",
        string.printable,
        string.ascii_letters + ";, \t\x0b\x0c\x1c\x7fé",
    ]
    names = ["To", "Subject", "Message-ID", "List-Unsubscribe", "X-A-Header-Name-Longer-Than-Most-Headers-Are"]
    values = [
        "".join(choices.choice(pool) for _ in range(length))
        for length in [*range(0, 100), 200, 1000]
        for pool in pools
        for _ in range(3)
    ]

    for value in values:
        # Then each header comes out as the email package's compat32 policy folds it, byte for byte
        for name in names:
            for quick, reference in ((QUICK_FOLDING_CRLF, compat32.clone(linesep="\r\n")), (QUICK_FOLDING, compat32)):
                assert written(quick.fold_binary, name, value) == written(reference.fold_binary, name, value)
        # And a subject passes Django's header rules as Django's own check passes it
        assert written(mime._checked, "Subject", value, "utf-8") == written(
            forbid_multi_line_headers, "Subject", value, "utf-8"
        )
