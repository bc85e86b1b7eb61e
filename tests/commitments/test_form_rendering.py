"""The form widgets written without the template engine (commitments/form_rendering.py) are Django's own."""

import re
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from django.urls import reverse

from commitments import services
from tests.commitments.test_views import log_promise_data
from tests.factories import make_commitment

pytestmark = pytest.mark.django_db


DJANGOS = "django.forms.renderers.DjangoTemplates"
OURS = "commitments.form_rendering.WidgetsWritten"


def without_tokens(html: str) -> str:
    # A CSRF token is masked anew on every render.
    return re.sub(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', r"\1", html)


def both_ways(settings: Any, ask: Callable[[], Any]) -> tuple[str, str]:
    settings.FORM_RENDERER = DJANGOS
    theirs = without_tokens(ask().content.decode())
    settings.FORM_RENDERER = OURS
    ours = without_tokens(ask().content.decode())
    return theirs, ours


def test_every_form_on_the_staff_pages_is_written_as_djangos_templates_write_it(
    signed_in, agent, colleague, now, settings
):
    # Given commitments in each state a page offers different moves for, one with odd characters
    waiting = make_commitment(actor=agent, summary='Ask "Pat" for the <serial> & model', due_at=now + timedelta(days=2))
    services.wait_on_customer(actor=agent, commitment=waiting, request="Send the serial number, please.")
    fulfilled = make_commitment(actor=agent, summary="Done one", due_at=now + timedelta(days=1))
    services.fulfil(actor=agent, commitment=fulfilled, resolution="Sent the estimate.")
    upset = make_commitment(actor=agent, summary="Upset one", due_at=now + timedelta(hours=3), temperature="upset")
    handed = make_commitment(actor=colleague, summary="Handed one", due_at=now + timedelta(hours=5))
    services.hand_off(actor=colleague, commitment=handed, assignee=agent)
    pages: list[tuple[str, str, dict[str, str]]] = [
        ("get", reverse("commitments:detail", args=[c.pk]), {}) for c in (waiting, fulfilled, upset, handed)
    ]
    pages += [
        ("get", reverse("commitments:new"), {}),
        ("get", reverse("commitments:customer", args=[upset.customer_id]), {}),
        # Bound forms with errors and what was typed
        ("post", reverse("commitments:new"), log_promise_data(summary="", customer_email="x<y")),
        ("post", reverse("commitments:move", args=[upset.pk, "reschedule"]), {"due_at": "soon & <later>"}),
        ("post", reverse("commitments:move", args=[upset.pk, "edit"]), {"summary": "", "details": "a\nb"}),
    ]

    written = []
    for method, path, data in pages:
        # When the page is rendered with Django's renderer and with ours
        theirs, ours = both_ways(settings, partial(getattr(signed_in, method), path, data))

        # Then the markup is the same, byte for byte
        assert ours == theirs
        written.append(ours)
    assert "<textarea" in ours and 'type="radio"' in ours
    # Selects too, with an option chosen (the hand-off's members, the edit's cadence)
    assert any("<select" in page and "</option>" in page and " selected>" in page for page in written)
