"""The lead's morning in a real browser, on the demo team (seed_demo's twelve weeks of history)."""

import csv
import io
import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from commitments.models import Commitment
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

README_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "dashboard.png"


@pytest.fixture
def demo_team(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo")


def test_a_lead_reads_the_morning_at_a_glance(page: Page, demo_team) -> None:
    log_in(page, "jordan", "followthrough-demo")
    page.get_by_role("link", name="Dashboard").click()
    expect(page).to_have_url("/dashboard/")
    expect(page.get_by_role("heading", name="Home Services Support", exact=True)).to_be_visible()

    # What needs attention now: one tile per list, each list grouped by owner.
    now = page.locator(".dash-tiles")
    for title in ("Overdue", "Missed", "At risk", "Reopened", "Replies not yet answered"):
        expect(now.get_by_text(title, exact=True)).to_be_visible()
    missed = page.locator("#list-missed")
    missed_count = Commitment.objects.filter(status="missed").count()
    expect(missed.locator("h3")).to_contain_text(f"Missed {missed_count}")

    # The figures of the whole team and each of the eight agents, each with its definition.
    table = page.locator(".dash-table").first
    expect(table.get_by_role("row")).to_have_count(1 + 1 + 8)
    expect(table.get_by_role("row", name="Whole team")).to_be_visible()
    for name in ("Alex Rivera", "Owen Brooks", "Maya Chen"):
        expect(table.get_by_role("link", name=name)).to_be_visible()
    expect(page.get_by_text("Commitments whose customer had to contact us first, out of all.")).to_be_visible()

    # Twelve weeks of trends, drawn on the server, with the numbers behind them.
    charts = page.locator("svg.trend-chart")
    expect(charts).to_have_count(8)
    chased = page.locator("figure", has_text="Customer chased us")
    chased.get_by_text("The numbers").click()
    expect(chased.locator("tbody tr")).to_have_count(12)
    chased.get_by_text("The numbers").click()

    page.set_viewport_size({"width": 1280, "height": 900})
    path = screenshot(page, "dashboard")
    if os.environ.get("UPDATE_README_SCREENSHOTS"):  # Refresh the README's picture on purpose only.
        shutil.copyfile(path, README_SCREENSHOT)

    # One click from a listed promise to its commitment.
    first = page.locator("#list-at_risk .item-title").first
    summary = first.inner_text()
    first.click()
    expect(page.get_by_role("heading", name=summary)).to_be_visible()


def test_a_lead_narrows_to_one_agent_and_downloads_the_list(page: Page, demo_team) -> None:
    log_in(page, "jordan", "followthrough-demo")
    page.goto("/dashboard/")
    page.get_by_label("Owner").select_option(label="Owen Brooks")
    page.get_by_label("Figures over").select_option(label="The last 90 days")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Figures over the last 90 days", exact=True)).to_be_visible()
    table = page.locator(".dash-table").first
    expect(table.get_by_role("row")).to_have_count(1 + 1 + 1)
    expect(table.get_by_role("link", name="Owen Brooks")).to_be_visible()

    with page.expect_download() as download:
        page.locator("#list-missed").get_by_role("link", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    owens = Commitment.objects.filter(status="missed", owner__username="owen").count()
    assert len(rows) == owens and all(row["owner"] == "owen" for row in rows)


def test_an_agent_sees_their_own_figures(page: Page, demo_team) -> None:
    log_in(page, "alex", "followthrough-demo")
    page.goto("/dashboard/")
    expect(page.get_by_text("Your own commitments")).to_be_visible()
    table = page.locator(".dash-table").first
    expect(table.get_by_role("row")).to_have_count(1 + 1 + 1)
    expect(table.get_by_role("row", name="You")).to_be_visible()
