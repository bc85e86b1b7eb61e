import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_logs_in_and_lands_on_their_commitments(page, agent):
    # Given the login page
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    screenshot(page, "login")

    # When the agent logs in with their username and password
    log_in(page, "alex", PASSWORD)

    # Then they see their own commitments and their name
    expect(page.get_by_role("heading", name="My commitments")).to_be_visible()
    expect(page.get_by_text("Alex Rivera")).to_be_visible()


def test_a_wrong_password_says_so_and_stays_on_the_login_page(page, agent):
    log_in(page, "alex", "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("didn't match")
    expect(page.get_by_label("Username")).to_have_value("alex")
