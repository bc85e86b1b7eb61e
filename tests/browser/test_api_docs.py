"""The docs page, as an integrator uses it: offline, authorized with a token, trying a call."""

import re

import pytest
from playwright.sync_api import Page, Route, expect

from accounts.api_tokens import issue_api_token
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_page_works_with_no_internet_and_tries_a_call(page: Page, live_server, agent, team):
    # Given no address outside the app can be reached
    outside: list[str] = []

    def only_the_app(route: Route) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_app)
    token = issue_api_token(user=agent)

    # When the integrator opens the docs and authorizes with their token
    page.goto("/api/v1/docs/")
    expect(page.get_by_text("Followthrough API").first).to_be_visible()
    expect(page.get_by_text("Log a promise")).to_be_visible()
    page.get_by_role("button", name=re.compile("Authorize")).first.click()
    token_form = page.locator(".auth-container", has_text="tokenAuth")
    token_form.locator("input").fill(f"Token {token}")
    token_form.get_by_role("button", name="Apply credentials").click()
    token_form.get_by_role("button", name="Close").click()

    # And tries "Your teams"
    operation = page.locator("#operations-teams-teams_list")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()

    # Then the real answer shows, and nothing was fetched from outside
    expect(operation.locator(".live-responses-table tr.response .response-col_status").first).to_have_text("200")
    expect(operation.locator(".live-responses-table")).to_contain_text("Home Repairs")
    screenshot(page, "api-docs-try-it-out")
    assert outside == []
