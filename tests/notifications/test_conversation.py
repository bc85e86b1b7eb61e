"""Replies by email, bounces and complaints, and the customer's language.

Mailgun's webhooks are driven with requests in Mailgun's own formats, signed as Mailgun signs
them; mail goes through a real SMTP server and texts through the SMS webhook.
"""

import hashlib
import hmac
import json
import time
import uuid

import pytest
from django.test import Client

from accounts.models import Team
from commitments import services
from commitments.customer import services as customer_services
from commitments.models import Customer, TimelineEvent
from commitments.replies import replies_not_yet_answered
from notifications import delivery, segments, tasks, wording
from notifications.inbound_email import strip_quoted
from notifications.models import Audience, DeliveryStatus, MessageKind, Notification, UnmatchedEmail
from notifications.reply_addresses import reply_address
from tests.factories import customer_details, make_commitment

pytestmark = pytest.mark.django_db

SIGNING_KEY = "key-mailgun-signing-test"
INBOUND = "/hooks/email/mailgun/inbound/"
TRACKING = "/hooks/email/mailgun/tracking/"


@pytest.fixture(autouse=True)
def mailgun(settings):
    settings.EMAIL_REPLY_TO = "replies@support.example.com"
    settings.MAILGUN_WEBHOOK_SIGNING_KEY = SIGNING_KEY
    settings.DEFAULT_FROM_EMAIL = "help@support.example.com"


def signature(key: str = SIGNING_KEY) -> dict[str, str]:
    timestamp, token = str(int(time.time())), uuid.uuid4().hex
    digest = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": digest}


def gmail_reply(*, to: str, sender: str, text: str, quoted: str, message_id: str) -> str:
    """A reply as Gmail writes it: new text, the attribution line, the quoted history."""
    quote = "\n".join(f"> {line}" for line in quoted.splitlines())
    return (
        f"From: Dana Whitfield <{sender}>\r\nTo: {to}\r\nSubject: Re: We are on it\r\n"
        f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        '--b1\r\nContent-Type: text/plain; charset="UTF-8"\r\n\r\n'
        f"{text}\r\n\r\nOn Wed, Dec 2, 2026 at 3:00 PM Alex Smith <{to}>\r\nwrote:\r\n\r\n{quote}\r\n"
        '--b1\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename="photo.png"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b1--\r\n"
    )


def post_inbound(client: Client, *, recipient: str, mime: str, sender: str = "dana@example.com", **extra: str):
    fields = {"recipient": recipient, "sender": sender, "subject": "Re: We are on it", "body-mime": mime, **extra}
    return client.post(INBOUND, {**fields, **signature()})


def tracking_event(event: str, *, message_id: str, recipient: str, severity: str = "", **data: object) -> str:
    event_data: dict[str, object] = {
        "event": event,
        "id": uuid.uuid4().hex,
        "timestamp": time.time(),
        "recipient": recipient,
        "message": {"headers": {"message-id": message_id.strip("<>"), "to": recipient}},
        **data,
    }
    if severity:
        event_data["severity"] = severity
    return json.dumps({"signature": signature(), "event-data": event_data})


def customer_email(mail_server, address: str):
    [message] = mail_server.to(address)
    return message


# --- Replies ------------------------------------------------------------------------------


def test_a_reply_to_an_update_from_a_mail_client_reaches_the_owner_within_a_sweep(client, mail_server, agent):
    commitment = make_commitment(actor=agent)
    services.send_update(actor=agent, commitment=commitment, message="The estimate is being priced.")
    tasks.sweep()
    update = mail_server.to("dana@example.com")[-1]
    assert update["Subject"] == "Update: Send the repair estimate"
    reply_to = update["Reply-To"]
    assert reply_to.startswith("replies+") and reply_to.endswith("@support.example.com")
    assert update["Content-Language"] == "en"
    # Each commitment has an address of its own, good for nothing else.
    other = make_commitment(actor=agent, customer=customer_details(email="lee@example.com", phone=""))
    assert reply_address(other.pk) != reply_to and reply_address(other.pk).startswith("replies+")

    mime = gmail_reply(
        to=reply_to,
        sender="dana@example.com",
        text="Still broken? The heater made the noise again this morning.",
        quoted="Hi Dana,\nThank you for reaching out. Here is our promise to you.",
        message_id="<CAF1234@mail.gmail.com>",
    )
    answer = post_inbound(client, recipient=reply_to, mime=mime)
    assert answer.status_code == 200
    tasks.sweep()  # What beat runs: the owner's alert goes out within one sweep at the latest.

    [reply] = TimelineEvent.objects.filter(commitment=commitment, kind=TimelineEvent.Kind.CUSTOMER_REPLY)
    assert reply.message == "Still broken? The heater made the noise again this morning."
    assert reply.data["sender"] == "dana@example.com"
    assert reply.data["subject"] == "Re: We are on it"
    assert reply.data["attachments"] == ["photo.png"]
    [alert] = mail_server.to(agent.email)[-1:]
    body = alert.get_body(("plain",)).get_content()
    assert "Still broken? The heater made the noise again this morning." in body
    assert "photo.png" in body
    assert "Thank you for reaching out" not in body

    # Mailgun retries: the same message lands once.
    assert post_inbound(client, recipient=reply_to, mime=mime).status_code == 200
    assert TimelineEvent.objects.filter(commitment=commitment, kind=TimelineEvent.Kind.CUSTOMER_REPLY).count() == 1

    # The commitment page offers to record the chase in one click, and the click records it.
    client.force_login(agent)
    page = client.get(commitment.get_absolute_url()).content.decode()
    assert "This was a chase: record it" in page and "photo.png" in page
    client.post(f"/commitments/{commitment.pk}/chased/", {"channel": "email", "note": reply.message})
    assert TimelineEvent.objects.filter(commitment=commitment, kind=TimelineEvent.Kind.CHASED).exists()


def test_a_reply_to_a_closed_commitment_still_lands_and_alerts(client, mail_server, agent):
    commitment = make_commitment(actor=agent)
    services.cancel(actor=agent, commitment=commitment, reason="Duplicate request")
    delivery.deliver_due()
    reply_to = mail_server.to("dana@example.com")[0]["Reply-To"]
    mime = gmail_reply(
        to=reply_to, sender="dana@example.com", text="Why was it cancelled?", quoted="x", message_id="<a@b>"
    )
    assert post_inbound(client, recipient=reply_to, mime=mime).status_code == 200
    assert TimelineEvent.objects.get(commitment=commitment, kind=TimelineEvent.Kind.CUSTOMER_REPLY).message == (
        "Why was it cancelled?"
    )
    assert Notification.objects.filter(commitment=commitment, kind=MessageKind.ALERT, recipient=agent.email).exists()


def test_mailguns_stripped_text_is_used_when_it_sends_one(client, agent):
    commitment = make_commitment(actor=agent)
    mime = gmail_reply(to="x", sender="dana@example.com", text="Full text", quoted="old", message_id="<s@b>")
    post_inbound(client, recipient=reply_address(commitment.pk), mime=mime, **{"stripped-text": "Just this"})
    assert TimelineEvent.objects.get(kind=TimelineEvent.Kind.CUSTOMER_REPLY).message == "Just this"


def test_mailguns_fully_parsed_format_lands_too(client, mail_server, agent):
    """Mailgun's route with forward() to a URL not ending in "mime": the message arrives as parsed fields."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    commitment = make_commitment(actor=agent)
    fields = {
        "recipient": reply_address(commitment.pk),
        "sender": "dana@example.com",
        "from": "Dana Whitfield <dana@example.com>",
        "To": reply_address(commitment.pk),
        "subject": "Re: Update",
        "body-plain": "Here is the serial number: AB-1234\n\n> Hi Dana,\n> old text",
        "stripped-text": "Here is the serial number: AB-1234",
        "message-headers": json.dumps([["Message-Id", "<parsed-1@mail.example.com>"], ["Subject", "Re: Update"]]),
        "attachment-count": "1",
        "attachment-1": SimpleUploadedFile("serial.jpg", b"\xff\xd8\xff", content_type="image/jpeg"),
        **signature(),
    }
    assert client.post(INBOUND, fields).status_code == 200
    reply = TimelineEvent.objects.get(commitment=commitment, kind=TimelineEvent.Kind.CUSTOMER_REPLY)
    assert reply.message == "Here is the serial number: AB-1234"
    assert reply.data["attachments"] == ["serial.jpg"]
    assert reply.data["message_id"] == "<parsed-1@mail.example.com>"


@pytest.mark.parametrize(
    ("written", "new"),
    [
        (
            "¿Ya está?\n\nEl mié, 2 dic 2026 a las 15:00, Alex Smith (<replies+1.x@support.example.com>)\n"
            "escribió:\n\n> Hola, Dana:\n> Novedades",
            "¿Ya está?",
        ),
        (
            "Thanks, that works.\n\n________________________________\nFrom: Alex Smith\nSent: Tuesday\n\nHi Dana",
            "Thanks, that works.",
        ),
        ("Fine by me.\n-- \nDana Whitfield\nAcme Ltd", "Fine by me."),
        ("Yes.\n\nFrom: Alex <a@b.c>\nSent: Tuesday, 1 December\nTo: Dana\n\nold", "Yes."),
        ("Line one\n> quoted in the middle\nLine two", "Line one\nLine two"),
    ],
)
def test_quoted_history_and_signatures_are_left_out(written, new):
    assert strip_quoted(written) == new


def test_a_bad_signature_is_refused_and_records_nothing(client, agent):
    commitment = make_commitment(actor=agent)
    fields = {"recipient": reply_address(commitment.pk), "sender": "dana@example.com", "body-plain": "hi"}
    forged = {**fields, **signature(key="not-the-key")}
    assert client.post(INBOUND, forged).status_code == 400
    assert client.post(INBOUND, fields).status_code == 400
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.CUSTOMER_REPLY).exists()
    assert not UnmatchedEmail.objects.exists()


def test_without_a_signing_key_the_hooks_answer_404(client, settings):
    settings.MAILGUN_WEBHOOK_SIGNING_KEY = ""
    assert client.post(INBOUND, {"recipient": "x", **signature()}).status_code == 404
    assert client.post(TRACKING, "{}", content_type="application/json").status_code == 404


def test_mail_for_no_commitment_is_kept_for_an_operator(client, agent, admin_client):
    make_commitment(actor=agent)
    forged = "replies+1.aaaaaaaaaaaaaaaaaaaaaaaaaa@support.example.com"
    mime = gmail_reply(to=forged, sender="someone@example.org", text="Hello?", quoted="q", message_id="<u@b>")
    assert post_inbound(client, recipient=forged, mime=mime, sender="someone@example.org").status_code == 200
    kept = UnmatchedEmail.objects.get()
    assert (kept.sender, kept.text) == ("someone@example.org", "Hello?")
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.CUSTOMER_REPLY).exists()
    assert "Hello?" in admin_client.get(f"/admin/notifications/unmatchedemail/{kept.pk}/change/").content.decode()


def test_replies_not_yet_answered_lists_text_and_email_replies_until_we_write_back(client, agent, team):
    commitment = make_commitment(actor=agent)
    mime = gmail_reply(to="x", sender="dana@example.com", text="Any news?", quoted="q", message_id="<n@b>")
    post_inbound(client, recipient=reply_address(commitment.pk), mime=mime)
    customer_services.record_text_reply(customers=[commitment.customer], body="Also: is Friday OK?", message_sid="SM1")
    customer_services.stop_texts(phone=commitment.customer.phone)  # A keyword is no reply.
    waiting = list(replies_not_yet_answered(teams=Team.objects.all()))
    assert [(event.message, event.data["via"]) for event in waiting] == [
        ("Any news?", "email"),
        ("Also: is Friday OK?", "sms"),
    ]
    services.send_update(actor=agent, commitment=commitment, message="The part arrives tomorrow.")
    assert not replies_not_yet_answered(teams=Team.objects.all()).exists()


# --- Bounces and complaints ---------------------------------------------------------------


def test_a_bounced_email_goes_by_text_and_later_messages_too(client, mail_server, sms_webhook, agent, daytime_zone):
    commitment = make_commitment(actor=agent, customer=customer_details(timezone=daytime_zone))
    delivery.deliver_due()
    acknowledgement = Notification.objects.get(commitment=commitment, kind=MessageKind.ACKNOWLEDGEMENT)
    assert customer_email(mail_server, "dana@example.com")["Message-ID"] == acknowledgement.message_id

    # A temporary failure changes nothing.
    deferred = tracking_event(
        "failed", message_id=acknowledgement.message_id, recipient="dana@example.com", severity="temporary"
    )
    assert client.post(TRACKING, deferred, content_type="application/json").status_code == 200
    acknowledgement.refresh_from_db()
    assert acknowledgement.status == DeliveryStatus.SENT

    bounced = tracking_event(
        "failed",
        message_id=acknowledgement.message_id,
        recipient="dana@example.com",
        severity="permanent",
        reason="bounce",
        **{"delivery-status": {"code": 550, "message": "5.1.1 The email account does not exist", "description": ""}},
    )
    assert client.post(TRACKING, bounced, content_type="application/json").status_code == 200
    delivery.deliver_due()

    acknowledgement.refresh_from_db()
    assert acknowledgement.status == DeliveryStatus.FAILED
    assert "does not exist" in acknowledgement.last_error
    [text] = sms_webhook.to("+12025550123")
    assert "our promise: Send the repair estimate" in text["body"]
    alert = mail_server.to(agent.email)[-1].get_body(("plain",)).get_content()
    assert "bounced" in alert and "by text to +12025550123" in alert

    services.send_update(actor=agent, commitment=commitment, message="The part arrives tomorrow.")
    delivery.deliver_due()
    assert sms_webhook.to("+12025550123")[-1]["body"].startswith("The part arrives tomorrow.")
    assert len(mail_server.to("dana@example.com")) == 1

    client.force_login(agent)
    page = client.get(commitment.get_absolute_url()).content.decode()
    assert "No email to dana@example.com" in page and "until their email address is changed" in page

    # A new address lifts the stop.
    services.edit_customer(
        actor=agent,
        customer=commitment.customer,
        details=customer_details(email="dana.w@example.com", timezone=daytime_zone),
    )
    services.send_update(actor=agent, commitment=commitment, message="Fitted today.")
    delivery.deliver_due()
    assert len(mail_server.to("dana.w@example.com")) == 1


def test_after_a_bounce_a_customer_who_texted_stop_gets_nothing_and_the_timeline_says_why(
    client, mail_server, sms_webhook, agent, daytime_zone
):
    commitment = make_commitment(actor=agent, customer=customer_details(timezone=daytime_zone))
    delivery.deliver_due()
    Customer.objects.update(sms_opted_out=True)
    acknowledgement = Notification.objects.get(commitment=commitment, kind=MessageKind.ACKNOWLEDGEMENT)
    bounced = tracking_event(
        "failed", message_id=acknowledgement.message_id, recipient="dana@example.com", severity="permanent"
    )
    assert client.post(TRACKING, bounced, content_type="application/json").status_code == 200
    delivery.deliver_due()
    assert sms_webhook.to("+12025550123") == []
    again = Notification.objects.get(idempotency_key=f"{acknowledgement.idempotency_key}:by_text")
    assert again.status == DeliveryStatus.SUPPRESSED
    assert TimelineEvent.objects.filter(commitment=commitment, message__contains="no text can go instead").exists()


def test_a_spam_complaint_stops_email_to_that_address(client, mail_server, agent):
    commitment = make_commitment(actor=agent, customer=customer_details(phone=""))
    delivery.deliver_due()
    acknowledgement = Notification.objects.get(commitment=commitment, kind=MessageKind.ACKNOWLEDGEMENT)
    complaint = tracking_event("complained", message_id=acknowledgement.message_id, recipient="dana@example.com")
    assert client.post(TRACKING, complaint, content_type="application/json").status_code == 200
    customer = Customer.objects.get()
    assert customer.email_undeliverable and customer.email_updates_opted_out
    assert TimelineEvent.objects.filter(commitment=commitment, message__contains="spam").exists()
    services.send_update(actor=agent, commitment=commitment, message="More news.")
    update = Notification.objects.filter(commitment=commitment, kind=MessageKind.STATUS_UPDATE).get()
    assert update.status == DeliveryStatus.SUPPRESSED


def test_a_forged_delivery_event_changes_nothing(client, mail_server, agent):
    commitment = make_commitment(actor=agent)
    delivery.deliver_due()
    acknowledgement = Notification.objects.get(commitment=commitment, kind=MessageKind.ACKNOWLEDGEMENT)
    body = json.loads(
        tracking_event(
            "failed", message_id=acknowledgement.message_id, recipient="dana@example.com", severity="permanent"
        )
    )
    body["signature"]["signature"] = "0" * 64
    assert client.post(TRACKING, json.dumps(body), content_type="application/json").status_code == 400
    acknowledgement.refresh_from_db()
    assert acknowledgement.status == DeliveryStatus.SENT


# --- Languages ----------------------------------------------------------------------------


def test_a_spanish_speaking_customer_reads_every_message_and_the_status_page_in_spanish(
    client, mail_server, sms_webhook, agent, daytime_zone
):
    commitment = make_commitment(actor=agent, customer=customer_details(language="es", timezone=daytime_zone))
    delivery.deliver_due()
    email = customer_email(mail_server, "dana@example.com")
    assert email["Content-Language"] == "es"
    assert email["Subject"] == "Nos ocupamos: Send the repair estimate"
    text = email.get_body(("plain",)).get_content()
    assert text.startswith("Hola, Dana:")
    assert "Gracias por contactarnos" in text and " a las " in text
    html = email.get_body(("html",)).get_content()
    assert '<html lang="es">' in html and "Ver cómo va" in html

    page = client.get(commitment.status_url.replace("http://127.0.0.1:8000", "")).content.decode()
    assert '<html lang="es">' in page
    assert "Lo que le prometimos" in page and "Cambiar cómo le contactamos" in page

    # Texts too: the frame in Spanish, the agent's words as written.
    services.edit_customer(
        actor=agent,
        customer=commitment.customer,
        details=customer_details(preferred_channel="sms", language="es", timezone=daytime_zone),
    )
    services.send_update(actor=agent, commitment=commitment, message="The technician comes at 10.")
    delivery.deliver_due()
    body = sms_webhook.to("+12025550123")[-1]["body"]
    assert body.startswith("The technician comes at 10.") and "Novedades antes del" in body
    assert segments.sms_segments(body, language="es") <= 2


ENGLISH_FRAME = ("Hi ", "We ", "Next update", "Status:", "owns it", "promise", "Thank you", "Done by")


@pytest.mark.parametrize("kind", sorted(wording.CALL_TOPICS))
def test_every_kind_of_message_is_written_in_spanish(agent, kind, daytime_zone):
    commitment = make_commitment(
        actor=agent, customer=customer_details(language="es", timezone=daytime_zone), summary="Enviar el presupuesto"
    )
    commitment.resolution, commitment.waiting_request = "Cambiamos la pieza.", "El número de serie."
    email = wording.render_customer_message(commitment, kind, channel="email")
    text = wording.render_customer_message(commitment, kind, channel="sms")
    for written in (email.subject, email.text, email.html, text.text):
        assert not [words for words in ENGLISH_FRAME if words in written], written
    assert email.text.startswith("Hola, Dana:")
    assert '<html lang="es">' in email.html
    assert segments.sms_segments(text.text, language="es") <= 2, text.text
    assert segments.sms_encoding(text.text, language="es") != "UCS-2", text.text


def test_the_status_page_is_spanish_in_every_state(client, agent):
    commitment = make_commitment(actor=agent, customer=customer_details(language="es"))
    path = commitment.status_url.replace("http://127.0.0.1:8000", "")
    services.wait_on_customer(actor=agent, commitment=commitment, request="El número de serie.")
    waiting = client.get(path).content.decode()
    assert "Necesitamos algo de usted" in waiting and "Enviar mi respuesta" in waiting
    answered = client.post(f"{path}answer/", {"answer": "AB-1234"}, follow=True).content.decode()
    assert "Gracias: tenemos su respuesta y volvemos a ello." in answered
    services.fulfil(actor=agent, commitment=commitment, resolution="Listo.")
    done = client.get(path).content.decode()
    assert "¿Está resuelto?" in done and "Sí, está resuelto" in done and " a las " in done
    assert "Preferred" not in done and "What we promised" not in done
    preferences = client.get(f"{path}preferences/").content.decode()
    assert "¿Cómo quiere que le contactemos?" in preferences and "Idioma" in preferences


def test_the_customer_changes_their_language_on_the_status_page(client, agent):
    commitment = make_commitment(actor=agent)
    path = commitment.status_url.replace("http://127.0.0.1:8000", "")
    assert '<html lang="en">' in client.get(path).content.decode()
    form = {"preferred_channel": "email", "email": "dana@example.com", "phone": "+12025550123", "email_updates": "on"}
    answer = client.post(f"{path}preferences/", {**form, "language": "es"})
    assert answer.status_code == 302
    assert Customer.objects.get().language == "es"
    assert "Lo que le prometimos" in client.get(path).content.decode()


def test_an_unknown_language_is_a_400_on_customer_language(client, agent):
    client.force_login(agent)
    body: dict = {
        "customer": {"name": "Ana", "email": "ana@example.com", "language": "xx-unknown"},
        "summary": "Call back",
        "due_at": "2030-01-01T10:00:00+00:00",
    }
    answer = client.post("/api/v1/commitments/", body, content_type="application/json")
    assert answer.status_code == 400
    assert "language" in answer.json()["customer"]
    assert not Customer.objects.exists()
    body["customer"]["language"] = "es-MX"
    answer = client.post("/api/v1/commitments/", body, content_type="application/json")
    assert answer.status_code == 201 and answer.json()["customer"]["language"] == "es-MX"


def test_segments_count_the_spanish_shift_table_and_stay_compatible():
    assert segments.sms_segments("a" * 160) == 1 and segments.sms_segments("a" * 161) == 2
    spanish = "á" + "a" * 153  # 155 septets with the shift escape
    assert segments.sms_length(spanish, language="es") == (155, "GSM-7 Spanish")
    assert segments.sms_segments(spanish, language="es") == 1
    assert segments.sms_segments(spanish + "a", language="es") == 2
    assert segments.sms_segments(spanish) == 3  # Without the table: UCS-2, 67 a part.
    assert segments.text_length("ñandú", language="es") == 6
    assert segments.sms_length("你好", language="es") == (2, "UCS-2")
    assert segments.sms_segments("a" * 149 * 2, language="es") == 2  # Plain GSM-7 needs no table.
    assert Audience.CUSTOMER  # The module's models load with the app.
