"""A customer who reads Spanish sees every page of theirs, and every message to them, in Spanish.

The pages that came after the catalogs: confirming a new email or phone number (and the message
that asks for it), an old closed request's read-only page, unsubscribing, and the answer to HELP.
"""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.utils import timezone

from commitments import services
from commitments.models import Customer
from notifications import delivery, segments
from tests.customer.conftest import link, page_text
from tests.customer.test_inbound_sms import reply_of, text_in
from tests.factories import customer_details, make_commitment

pytestmark = pytest.mark.django_db

# Words of the English pages and messages that must not be left in a Spanish one.
ENGLISH = (
    "Use this",
    "Yes, use it",
    "Not you?",
    "Thank you",
    "This request is closed",
    "please contact",
    "You asked",
    "to confirm",
    "Until you",
    "Stop regular",
    "Customer updates",
    "Skip to content",
    "Reply ",
)


def english_left(text: str) -> list[str]:
    return [words for words in ENGLISH if words in text]


@pytest.fixture
def commitment(agent, daytime_zone):
    """Alex's promise to Dana, who reads Spanish (and lives where it is daytime, so texts go now)."""
    return make_commitment(actor=agent, customer=customer_details(language="es", timezone=daytime_zone))


def ask_for(client, commitment, **contact: str):
    """Dana changes how we reach her on her preferences page (masked contacts keep what we have)."""
    form = {"preferred_channel": "email", "email": "d•••@example.com", "phone": "•••• 0123", "texts_allowed": "on"}
    form.update({"email_updates": "on", **contact})
    return client.post(link(commitment, "preferences"), form, follow=True)


def contact_path(body: str) -> str:
    [url] = re.findall(r"https?://\S*/s/contact/\S+", body)
    return urlsplit(url).path


def test_a_new_email_address_is_confirmed_in_spanish_from_the_message_to_the_page(client, mail_server, commitment):
    # When Dana gives us a new email address on her (Spanish) page
    saved = page_text(ask_for(client, commitment, email="dana.nueva@example.com"))
    assert '<html lang="es">' in saved
    assert "Le enviamos un enlace a su nuevo correo electrónico: ábralo para confirmarlo." in saved

    # Then the message that asks her to confirm it reaches the new address, in Spanish
    delivery.deliver_due()
    [email] = mail_server.to("dana.nueva@example.com")
    assert email["Subject"] == "Home Repairs: confirme su nuevo correo electrónico"
    assert email["Content-Language"] == "es"
    text = email.get_body(("plain",)).get_content()
    assert text.startswith("Hola, Dana:")
    assert "Pidió a Home Repairs que a partir de ahora le contacte en este correo electrónico." in text
    assert "pulse «Sí, usarlo»" in text and "ignore este mensaje: no cambia nada." in text
    assert not english_left(text), text

    # and its link opens a Spanish page that asks first
    path = contact_path(text)
    question = page_text(client.get(path))
    assert '<html lang="es">' in question
    assert "<title>Confirme su nuevo correo electrónico" in question
    assert "¿Usar este correo electrónico?" in question and "Sí, usarlo" in question
    assert "¿No fue usted? Cierre esta página: no cambia nada." in question
    assert "Esta página es solo para usted" in question
    assert not english_left(question), question
    assert Customer.objects.get(pk=commitment.customer_id).email == "dana@example.com"

    # When she confirms, the page thanks her in Spanish and the new address is hers
    done = page_text(client.post(path))
    assert '<html lang="es">' in done
    assert "Gracias: ya está confirmado" in done
    assert "A partir de ahora, Home Repairs le contactará en este correo electrónico." in done
    assert not english_left(done), done
    assert Customer.objects.get(pk=commitment.customer_id).email == "dana.nueva@example.com"


def test_a_new_phone_number_is_confirmed_by_a_spanish_text(client, sms_webhook, commitment):
    # When Dana gives us a new mobile number and asks for texts
    saved = page_text(ask_for(client, commitment, preferred_channel="sms", phone="+12025550188"))
    assert "Le enviamos un enlace a su nuevo número de teléfono: ábralo para confirmarlo." in saved

    # Then the text that asks her to confirm it goes to the new number, in Spanish and without UCS-2
    delivery.deliver_due()
    [text] = sms_webhook.to("+12025550188")
    body = text["body"]
    assert body.startswith("Home Repairs: confirme este número para recibir novedades de su solicitud: http")
    assert body.endswith("¿No fue usted? Ignore este mensaje.")
    assert not english_left(body), body
    assert segments.sms_encoding(body, language="es") != "UCS-2", body

    # and its link opens a Spanish page
    path = contact_path(body)
    question = page_text(client.get(path))
    assert '<html lang="es">' in question and "¿Usar este número de teléfono?" in question
    done = page_text(client.post(path))
    assert "A partir de ahora, Home Repairs le contactará en este número de teléfono." in done
    assert Customer.objects.get(pk=commitment.customer_id).phone == "+12025550188"


def test_an_old_closed_requests_link_is_read_only_in_spanish(client, agent, commitment):
    services.fulfil(actor=agent, commitment=commitment, resolution="Listo.")
    services.confirm(commitment=commitment)
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        # The status page says it is closed, in Spanish
        status = page_text(client.get(link(commitment)))
        assert '<html lang="es">' in status
        assert "Esta solicitud está cerrada" in status
        assert "Esta página muestra cómo quedó todo al cerrarse." in status
        assert "Para pedirnos algo nuevo, contacte con Home Repairs." in status
        assert not english_left(status), status

        # and an action from it gets the read-only page, in Spanish
        refused = client.post(link(commitment, "preferences"), {"preferred_channel": "sms"})
        assert refused.status_code == 403
        page = page_text(refused)
        assert '<html lang="es">' in page
        assert "<title>Esta solicitud está cerrada" in page
        assert "Se cerró hace más de 30 días, así que este enlace solo muestra cómo quedó todo" in page
        assert "contacte con Home Repairs." in page and "Volver a su solicitud" in page
        assert not english_left(page), page


def test_the_unsubscribe_page_asks_and_answers_in_spanish(csrf_client, commitment):
    question = csrf_client.get(link(commitment, "unsubscribe"))
    page = page_text(question)
    assert '<html lang="es">' in page
    assert "¿Dejar de recibir novedades periódicas por correo?" in page
    assert "el enlace de nuestros mensajes siempre muestra cómo va todo." in page
    assert "Darme de baja de las novedades por correo" in page
    assert not english_left(page), page

    token = question.cookies["csrftoken"].value
    done = page_text(csrf_client.post(link(commitment, "unsubscribe"), {"csrfmiddlewaretoken": token}))
    assert '<html lang="es">' in done
    assert "Se ha dado de baja" in done
    assert "Para cambiar cómo le contactamos, use el enlace de cualquiera de nuestros mensajes." in done
    assert not english_left(done), done
    assert Customer.objects.get(pk=commitment.customer_id).email_updates_opted_out is True


def test_help_is_answered_in_the_customers_language(client, settings, commitment):
    settings.TWILIO_AUTH_TOKEN = "twilio-test-auth-token"
    settings.SITE_URL = "https://support.example.com"
    reply = reply_of(text_in(client, "+12025550123", "HELP"))
    assert "<Message>Home Repairs: le enviamos por mensaje de texto novedades sobre la solicitud que nos hizo." in reply
    # The carrier's keywords stay as they are: those are the words it acts on.
    assert "Responda STOP para no recibir más mensajes, START para volver a recibirlos." in reply
    assert "Reply STOP" not in reply


def test_the_preferences_form_explains_and_refuses_in_spanish(client, commitment):
    form = page_text(client.get(link(commitment, "preferences")))
    assert "Usaremos la nueva dirección cuando la confirme desde el mensaje que le enviaremos allí." in form
    assert "Usaremos el nuevo número cuando lo confirme desde el mensaje de texto" in form
    assert "A new address is used" not in form and "A new number is used" not in form

    # A contact that is not one is refused in the customer's words, naming the field, and nothing changes
    refused = client.post(
        link(commitment, "preferences"),
        {"preferred_channel": "email", "email": "not-an-address", "phone": "12", "texts_allowed": "on"},
    )
    page = page_text(refused)
    assert "Escriba un correo electrónico válido." in page
    assert "Escriba un número de teléfono válido, p. ej. +34 612 345 678." in page
    assert "Enter a valid" not in page
    customer = Customer.objects.get(pk=commitment.customer_id)
    assert (customer.email, customer.phone) == ("dana@example.com", "+12025550123")
