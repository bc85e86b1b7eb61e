"""A customer on their phone: the link from a real email, "no, still a problem", and it is reopened."""

import re

import pytest
from playwright.sync_api import Page, expect

from commitments import services
from commitments.models import Status
from commitments.status_links import unsubscribe_url
from notifications.delivery import deliver
from notifications.models import Audience, DeliveryStatus, MessageKind, Notification
from tests.browser.conftest import screenshot
from tests.factories import make_commitment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STATUS_LINK = re.compile(r"https?://[^\s/]+/s/[A-Za-z0-9_-]+/")


@pytest.fixture(autouse=True)
def _links_point_at_the_test_server(settings, live_server):
    settings.SITE_URL = live_server.url
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def send_pending_customer_mail(commitment) -> None:
    """What the worker does on commit: deliver the customer's messages now."""
    pending = Notification.objects.filter(
        commitment=commitment, audience=Audience.CUSTOMER, status=DeliveryStatus.PENDING
    )
    deliver(list(pending.values_list("pk", flat=True)))


def status_link_in(message) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    found = STATUS_LINK.search(body)
    assert found, f"no status link in the email:\n{body}"
    return found.group(0)


def fits_the_screen(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_customer_opens_the_link_from_their_email_says_no_and_sees_it_reopened(
    phone_page: Page, mail_server, agent, lead
):
    # Given Alex's promise to Dana, acknowledged by a real email
    commitment = make_commitment(actor=agent, summary="Fix the water heater")
    send_pending_customer_mail(commitment)
    [acknowledgement] = mail_server.to("dana@example.com")
    link = status_link_in(acknowledgement)
    # The unsubscribe link carries its own token, never the status link's
    assert acknowledgement["List-Unsubscribe"].strip() == f"<{unsubscribe_url(commitment)}>"
    assert link not in acknowledgement["List-Unsubscribe"]

    # When Dana opens the link on her phone
    phone_page.goto(link)

    # Then she sees the promise, who looks after it and when she hears next, on a page that fits her screen
    expect(phone_page.get_by_role("heading", name="Fix the water heater")).to_be_visible()
    expect(phone_page.get_by_text("Alex, Home Repairs")).to_be_visible()
    expect(phone_page.locator("#status")).to_have_text("In progress")
    expect(phone_page.get_by_text("Next update")).to_be_visible()
    assert fits_the_screen(phone_page)
    screenshot(phone_page, "customer-status-open")

    # Given Alex says it is done, and the resolution email reaches Dana with the same link
    services.fulfil(actor=agent, commitment=commitment, resolution="We replaced the thermostat.")
    send_pending_customer_mail(commitment)
    resolution = mail_server.to("dana@example.com")[-1]
    assert status_link_in(resolution) == link

    # When she opens it and answers "No, still a problem", saying what is wrong
    phone_page.goto(link)
    expect(phone_page.get_by_role("heading", name="Is it resolved?")).to_be_visible()
    expect(phone_page.get_by_text("We replaced the thermostat.").first).to_be_visible()
    assert fits_the_screen(phone_page)
    screenshot(phone_page, "customer-status-fulfilled")
    phone_page.get_by_role("link", name="No, still a problem").click()
    phone_page.get_by_label("What is still wrong?").fill("The water is still cold in the mornings.")
    screenshot(phone_page, "customer-not-resolved")
    phone_page.get_by_role("button", name="No, still a problem: reopen it").click()

    # Then she sees it reopened, with her words and the promise of a next update
    expect(phone_page.locator("#status")).to_have_text("Reopened")
    expect(phone_page.get_by_role("status")).to_contain_text("Alex and their team lead have been told")
    latest = phone_page.get_by_role("region", name="Latest update")
    expect(latest.get_by_text("You told us it's still a problem")).to_be_visible()
    expect(latest.get_by_text("The water is still cold in the mornings.")).to_be_visible()
    history = phone_page.get_by_role("region", name="What we've told you")
    expect(history.get_by_text("We replaced the thermostat.")).to_be_visible()
    assert fits_the_screen(phone_page)
    screenshot(phone_page, "customer-status-reopened")

    # And the commitment is reopened, with Alex and Lee alerted at once
    commitment.refresh_from_db()
    assert commitment.status == Status.REOPENED
    alerted = set(
        Notification.objects.filter(commitment=commitment, kind=MessageKind.ALERT).values_list("recipient", flat=True)
    )
    assert alerted == {"alex@staff.example.com", "lee@staff.example.com"}


def test_a_keyboard_user_confirms_it_is_resolved(phone_page: Page, agent):
    # Given a fulfilled commitment
    commitment = make_commitment(actor=agent, summary="Send the repair estimate")
    services.fulfil(actor=agent, commitment=commitment, resolution="The estimate is in your inbox.")
    phone_page.goto(commitment.status_url)

    # When the customer tabs to "Yes, it's resolved" and presses Enter
    yes = phone_page.get_by_role("button", name="Yes, it's resolved")
    for _ in range(30):
        phone_page.keyboard.press("Tab")
        if yes.evaluate("button => button === document.activeElement"):
            break
    else:
        pytest.fail("The 'Yes' button cannot be reached with the keyboard")
    phone_page.keyboard.press("Enter")

    # Then the request is closed and the page says so
    expect(phone_page.locator("#status")).to_have_text("Resolved")
    commitment.refresh_from_db()
    assert commitment.status == Status.CONFIRMED
