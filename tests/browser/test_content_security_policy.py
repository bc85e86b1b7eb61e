"""Under the Content-Security-Policy (no inline script, no inline style) every page still works:
htmx swaps a panel, Swagger UI draws the API, the customer's page answers, and the browser
reports no violation anywhere."""

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from commitments.status_links import token_for
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, make_commitment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_no_page_breaks_the_policy_and_htmx_and_swagger_still_work(page: Page, agent, lead):
    violations: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            violations.append(f"{page.url}: {message.text}")

    page.on("console", watch)
    commitment = make_commitment(actor=agent, summary="Send the repair estimate")

    log_in(page, "alex", PASSWORD)
    expect(page.get_by_role("heading", name="My commitments")).to_be_visible()

    # htmx: sending an update swaps the commitment's panel in place
    page.goto(f"/commitments/{commitment.pk}/")
    update = page.locator("form.send-update")
    update.get_by_label("Update for the customer").fill("The estimate is being priced: you will have it by noon.")
    update.get_by_role("button").first.click()
    expect(page.get_by_text("The estimate is being priced").first).to_be_visible()

    # Swagger UI draws the operations from its own script file
    page.goto("/api/v1/docs/")
    expect(page.get_by_text("Log a promise")).to_be_visible()

    # The customer's page and its preferences
    page.goto(f"/s/{token_for(commitment.status_token_nonce)}/")
    expect(page.get_by_role("heading", name="Send the repair estimate")).to_be_visible()
    page.goto(f"/s/{token_for(commitment.status_token_nonce)}/preferences/")
    expect(page.get_by_text("How should we reach you?")).to_be_visible()

    # The admin
    page.goto("/admin/login/")
    expect(page.locator("#id_username")).to_be_visible()

    assert violations == []
