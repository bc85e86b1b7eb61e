"""Every form is CSRF-protected, and text typed by customers and agents is escaped wherever it is shown."""

import html
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import timezone

from commitments import services
from commitments.customer import services as customer_services
from commitments.status_links import token_for
from notifications.channels.email import build_email
from notifications.models import Audience, MessageKind, Notification
from tests.factories import customer_details, make_commitment
from tests.security.conftest import TeamA
from tests.security.routes import addresses, all_routes

pytestmark = pytest.mark.django_db


class Forms(HTMLParser):
    """The POST forms of a page, each with its action and whether it carries the CSRF token."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        values = dict(attrs)
        if tag == "form" and (values.get("method") or "get").lower() == "post":
            self.forms.append({"action": values.get("action") or "", "csrf": False, "hx": "hx-post" in values})
        if tag == "input" and values.get("name") == "csrfmiddlewaretoken" and self.forms:
            self.forms[-1]["csrf"] = True


def forms_on(page: str) -> list[dict]:
    parser = Forms()
    parser.feed(page)
    return parser.forms


def test_every_form_on_every_page_needs_the_csrf_token(team_a: TeamA, agent):
    alex = Client(enforce_csrf_checks=True)
    alex.force_login(agent)
    customer = Client(enforce_csrf_checks=True)
    checked: set[str] = set()
    for route in all_routes():
        if route.is_api or route.name.startswith(("hooks:", "admin:")) or route.name == "logout":
            continue
        browser = customer if route.is_customer_link else alex
        for path in addresses(route, team_a):
            response = browser.get(path)
            if response.status_code != 200 or response.streaming:  # a CSV download holds no form
                continue
            for form in forms_on(response.content.decode()):
                action = html.unescape(form["action"]) or path
                assert form["csrf"], f"a form on {path} posting to {action} has no CSRF token"
                # Without the token the post is refused (the one-click unsubscribe body aside)
                refused = browser.post(action, {"preferred_channel": "sms", "what_is_wrong": "x"})
                assert refused.status_code == 403, f"{action} (form on {path}) took a post without the CSRF token"
                checked.add(action.split("?")[0])
    # The admin's login form too
    admin_login = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "alex", "password": "x"})
    assert admin_login.status_code == 403
    assert len(checked) >= 10, checked


SCRIPT = "<script>alert('x')</script>"
IMAGE = '<img src=x onerror="alert(1)">'


def test_customer_and_agent_text_is_escaped_in_pages_emails_and_texts(agent, client, settings):
    settings.FOLLOWTHROUGH_QUIET_HOURS = "00:00-00:00"
    commitment = make_commitment(
        actor=agent,
        summary=f"Fix {SCRIPT}",
        details=f"Details {IMAGE}",
        customer=customer_details(name=f"Dana {IMAGE}", phone="+12025550123", preferred_channel="email"),
        due_at=timezone.now() + timedelta(days=2),
    )
    services.send_update(actor=agent, commitment=commitment, message=f"Update {SCRIPT}")
    services.wait_on_customer(actor=agent, commitment=commitment, request=f"Send {IMAGE}")
    customer_services.answer_request(commitment=commitment, answer=f"Answer {SCRIPT}")

    # Pages: the staff's and the customer's
    client.force_login(agent)
    pages = [
        client.get(f"/commitments/{commitment.pk}/").content.decode(),
        client.get(f"/customers/{commitment.customer_id}/").content.decode(),
        client.get("/search/?q=Fix").content.decode(),
        Client().get(f"/s/{token_for(commitment.status_token_nonce)}/").content.decode(),
    ]
    for page in pages:
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert" in page or "&lt;img src=x" in page

    # Emails: the HTML alternative is escaped; the plain text is the text as typed
    for notification in Notification.objects.filter(commitment=commitment, channel="email"):
        message = build_email(notification)
        for alternative, _ in message.alternatives:
            assert "<script>alert" not in str(alternative) and "<img src=x" not in str(alternative)

    # Texts: plain text, never HTML-escaped (a customer would read "&lt;" literally)
    services.edit_customer(
        actor=agent,
        customer=commitment.customer,
        details=customer_details(name=f"Dana {IMAGE}", preferred_channel="sms"),
    )
    services.send_update(actor=agent, commitment=commitment, message="Tom & Jerry's <update>")
    text = Notification.objects.filter(commitment=commitment, channel="sms", kind=MessageKind.STATUS_UPDATE).latest(
        "pk"
    )
    assert "Tom & Jerry's <update>" in text.body
    assert "&amp;" not in text.body and "&lt;" not in text.body and "&#x27;" not in text.body


def test_the_contact_check_is_plain_text_and_names_no_one_elses_details(team_a: TeamA):
    check = Notification.objects.get(commitment=team_a.commitment, kind=MessageKind.CONTACT_CHECK)
    assert check.audience == Audience.CUSTOMER
    assert "Replace the boiler valve" not in check.body  # nothing of the promise to an unconfirmed address
    assert re.search(r"/s/contact/[\w-]+/", check.body)
