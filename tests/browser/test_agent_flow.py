"""An agent keeps a promise in a real browser: log it, find it, update it, hand it off, fulfil it."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from commitments import services
from commitments.models import Commitment, Customer
from notifications import delivery
from tests.browser.conftest import log_in, screenshot
from tests.factories import PASSWORD, customer_details, make_commitment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workload(agent, colleague, lead, outsider):
    """A working day's worth of promises, so the pages look as they do in use."""
    now = timezone.now()
    priya = customer_details(
        name="Priya Raman",
        email="priya.raman@example.com",
        phone="+14155550178",
        preferred_channel="sms",
        timezone="America/Los_Angeles",
    )
    make_commitment(
        actor=agent,
        customer=priya,
        summary="Confirm the technician's arrival window for Thursday",
        due_at=now + timedelta(hours=26),
        external_ref="CASE-1041",
    )
    grace = customer_details(name="Grace Lin", email="grace.lin@example.com", phone="+16175550199")
    refund = make_commitment(
        actor=agent,
        customer=grace,
        summary="Refund the duplicate charge on the October invoice",
        due_at=now + timedelta(days=2, hours=3),
        external_ref="CASE-1043",
    )
    services.send_update(actor=agent, commitment=refund, message="Billing approved the refund; it posts tomorrow.")
    omar = customer_details(
        name="Omar Haddad", email="omar.haddad@example.com", phone="+12065550122", timezone="America/Los_Angeles"
    )
    thermostat = make_commitment(
        actor=agent,
        customer=omar,
        summary="Order the replacement thermostat and share tracking",
        due_at=now + timedelta(days=4),
    )
    services.wait_on_customer(actor=agent, commitment=thermostat, request="The model number on the old thermostat.")
    with time_machine.travel(now - timedelta(hours=6)):
        tomas = customer_details(
            name="Tomás Herrera",
            email="tomas.herrera@example.com",
            phone="+13125550110",
            preferred_channel="phone",
            timezone="America/Chicago",
        )
        make_commitment(
            actor=colleague,
            customer=tomas,
            summary="Call back with the warranty decision",
            due_at=now - timedelta(hours=1),
        )
        # Dana is a returning customer: an earlier promise to her was kept.
        earlier = make_commitment(
            actor=agent,
            customer=customer_details(name="Dana Whitfield", email="dana.whitfield@example.com", phone="+12025550143"),
            summary="Book the annual boiler service",
            due_at=now,
        )
        services.fulfil(actor=agent, commitment=earlier, resolution="Booked for the 3rd at 9:00.")
    billing = make_commitment(
        actor=outsider,
        customer=customer_details(name="Ana Souza", email="ana@example.com", phone=""),
        summary="Another team's promise",
    )
    delivery.deliver_due()  # The engine sends what the setup queued, as a worker would.
    return {"other_team": billing}


def test_an_agent_logs_a_promise_and_keeps_it_to_the_end(page: Page, agent, workload):
    # Given the agent logs in
    log_in(page, "alex", PASSWORD)
    expect(page.get_by_role("heading", name="My commitments")).to_be_visible()

    # When they log a promise to a returning customer, typing her email and picking a due time
    page.get_by_role("link", name="Log a promise").first.click()
    expect(page.get_by_role("heading", name="Log a promise")).to_be_visible()
    expect(page.get_by_label("Customer email")).to_be_focused()
    page.keyboard.type("dana.whitfield@example.com")
    expect(page.get_by_text("Returning customer")).to_be_visible()
    expect(page.get_by_label("Customer name")).to_have_value("Dana Whitfield")
    expect(page.get_by_label("Customer phone")).to_have_value("+12025550143")
    page.get_by_label("What did you promise?").fill("Send the revised estimate for the water heater")
    page.get_by_text("In 2 hours").click()
    screenshot(page, "log-a-promise", full_page=False)
    page.keyboard.press("Control+Enter")

    # Then it is logged, on its own page, and Dana stays one customer
    expect(
        page.get_by_text("Promise logged. Dana Whitfield is being sent an acknowledgement by email now.")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Send the revised estimate for the water heater")).to_be_visible()
    assert Customer.objects.filter(email="dana.whitfield@example.com").count() == 1

    # And it is at the top of their list, due soonest
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My commitments").click()
    first_row = page.locator("#my-commitments > li").first
    expect(first_row).to_contain_text("Send the revised estimate for the water heater")
    expect(first_row).to_contain_text(re.compile(r"due in (1 h 5\d min|2 h)"))
    expect(first_row).to_contain_text("Due soon")
    screenshot(page, "my-commitments")

    # When they send the customer an update
    first_row.get_by_role("link", name="Send the revised estimate for the water heater").click()
    page.get_by_label("Update for the customer").fill(
        "The technician measured today; the estimate goes out this afternoon. Next update by 5 pm."
    )
    page.get_by_role("button", name="Send update to Dana Whitfield").click()
    expect(page.get_by_role("status")).to_contain_text("Update sent to Dana Whitfield by email.")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Update sent")
    expect(page.locator("table.messages")).to_contain_text("Status update")
    delivery.deliver_due()

    # And hand it off to a teammate
    page.locator("summary", has_text="Hand off").click()
    page.get_by_label("Hand off to").select_option(label="Sam Okafor")
    page.get_by_label("Note for them").fill("Sam did the site visit and has the measurements.")
    page.get_by_role("button", name="Hand off").click()
    expect(page.get_by_role("status")).to_contain_text("Handed off to Sam Okafor. Alex Rivera stays the owner.")
    expect(page.locator("dl.facts")).to_contain_text(re.compile(r"Working on it\s*Sam Okafor"))
    screenshot(page, "commitment")

    # And fulfil it
    page.locator("summary", has_text="Fulfil").click()
    page.get_by_label("What was done (the customer is told)").fill("The estimate is in your inbox: $1,480 all in.")
    page.get_by_role("button", name="Mark fulfilled").click()
    expect(page.get_by_role("status")).to_contain_text("Fulfilled.")
    expect(page.locator(".badges")).to_contain_text("Fulfilled")

    # Then the timeline tells the story in order
    kinds = timeline.locator("li.event:not(.compact) .event-head strong").all_inner_texts()
    assert kinds == ["Logged", "Update sent", "Handed off", "Fulfilled"]
    # With each message's delivery shown where it happened
    expect(timeline.locator("li.compact").first).to_contain_text("dana.whitfield@example.com")
    expect(page.locator("table.messages")).to_contain_text("Sent")
    expect(timeline).to_contain_text("Alex Rivera → Sam Okafor")
    screenshot(page, "commitment-fulfilled")
    commitment = Commitment.objects.get(summary="Send the revised estimate for the water heater")
    assert (commitment.status, commitment.owner.username, commitment.assignee.username) == (
        "fulfilled",
        "alex",
        "sam",
    )


def test_another_teams_commitment_is_not_found(page: Page, agent, workload):
    log_in(page, "alex", PASSWORD)
    expect(page.get_by_role("heading", name="My commitments")).to_be_visible()

    response = page.goto(workload["other_team"].get_absolute_url())

    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()


def test_a_mistake_is_shown_beside_its_field_and_nothing_is_saved(page: Page, agent, workload):
    log_in(page, "alex", PASSWORD)
    page.goto("/commitments/new/")
    page.get_by_label("Customer email").fill("new.customer@example")
    page.get_by_label("Customer name").fill("Noor Aziz")
    page.get_by_label("What did you promise?").fill("Send the brochure")
    page.get_by_label("Exact due time").fill("2020-01-01T10:00")
    page.get_by_role("button", name="Log the promise").click()

    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")
    expect(page.locator("#id_customer_email_errors")).to_have_text("Enter a valid email address.")
    expect(page.locator("#id_due_at_errors")).to_have_text("The due time must be in the future.")
    expect(page.get_by_label("Customer name")).to_have_value("Noor Aziz")
    assert not Customer.objects.filter(name="Noor Aziz").exists()


def test_every_form_works_without_javascript(browser: Browser, live_server, agent, colleague):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    try:
        log_in(page, "alex", PASSWORD)
        page.goto("/commitments/new/")
        page.get_by_label("Customer email").fill("lena@example.com")
        page.get_by_label("Customer name").fill("Lena Ortiz")
        page.get_by_label("What did you promise?").fill("Email the installation checklist")
        page.get_by_text("Tomorrow 10:00").click()
        page.get_by_role("button", name="Log the promise").click()
        expect(page.get_by_text("Promise logged.")).to_be_visible()

        page.get_by_label("Update for the customer").fill("The checklist is being reviewed by the installer.")
        page.get_by_role("button", name="Send update to Lena Ortiz").click()
        expect(page.get_by_text("Update sent to Lena Ortiz by email.")).to_be_visible()

        page.locator("summary", has_text="Hand off").click()
        page.get_by_label("Hand off to").select_option(label="Sam Okafor")
        page.get_by_role("button", name="Hand off").click()
        expect(page.get_by_text("Handed off to Sam Okafor.")).to_be_visible()
        expect(page.locator("#timeline")).to_contain_text("Handed off")
    finally:
        context.close()


def test_a_move_made_stale_by_someone_else_is_refused_with_a_clear_message(page: Page, agent, lead):
    # Given the agent has a commitment open in their browser
    commitment = make_commitment(actor=agent, summary="Send the brochure")
    log_in(page, "alex", PASSWORD)
    page.goto(commitment.get_absolute_url())

    # When their lead cancels it meanwhile, and the agent then tries to fulfil it
    services.cancel(actor=lead, commitment=commitment, reason="The customer withdrew.")
    page.locator("summary", has_text="Fulfil").click()
    page.get_by_label("What was done (the customer is told)").fill("Sent.")
    page.get_by_role("button", name="Mark fulfilled").click()

    # Then the page says why, shows the commitment as it now is, and nothing changed
    expect(page.get_by_role("alert")).to_have_text("This commitment is cancelled, so it cannot be fulfilled.")
    expect(page.locator(".badges")).to_contain_text("Cancelled")
    commitment.refresh_from_db()
    assert commitment.status == "cancelled"
