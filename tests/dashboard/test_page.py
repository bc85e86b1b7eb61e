"""/dashboard/ as a lead opens it in the morning, its CSV exports, and what it costs as data grows."""

import csv
import io
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commitments.models import Commitment
from dashboard import selectors
from tests.dashboard.conftest import DAY, Story
from tests.factories import customer_details, make_commitment


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def as_lead(client, story: Story):
    client.force_login(story.lead)
    return client


def test_the_lead_sees_what_needs_attention_the_figures_and_the_trends(as_lead, story: Story) -> None:
    response = as_lead.get(reverse("dashboard:page"))
    assert response.status_code == 200
    page = response.content.decode()
    words = text(response)
    assert "Needs attention now" in words
    assert "1 Missed" in words and "1 Reopened" in words and "1 At risk" in words
    # Each commitment one click away.
    assert f'href="{story.c["c3"].get_absolute_url()}"' in page
    assert "Refund the duplicate charge" in words and "Another team's promise" not in words
    # Figures with their definitions.
    for figure in selectors.FIGURES:
        assert figure.label in words
        assert figure.definition.split("“")[0][:40] in words
    assert "60 %" in words  # fulfilled on time, 3 of 5
    assert "29 %" in words  # chased, 2 of 7
    assert "36.0 h" in words  # the median slip
    # Trends drawn on the server, the numbers in a table, no script of their own.
    assert page.count('<svg class="trend-chart') == len(selectors.FIGURES)
    assert "<script>" not in page and "onclick" not in page and "style=" not in page
    assert "The numbers" in words


def test_filters_narrow_the_page(as_lead, story: Story) -> None:
    words = text(as_lead.get(reverse("dashboard:page"), {"owner": story.blake.pk, "period": 7}))
    assert "Fix the thermostat" in words and "Refund the duplicate charge" not in words
    assert "Figures over the last 7 days" in words
    words = text(as_lead.get(reverse("dashboard:page"), {"channel": "sms"}))
    assert "1 commitment, 1 still open" in words and "Refund the duplicate charge" not in words


def test_another_teams_dashboard_is_a_404(as_lead, story: Story) -> None:
    assert as_lead.get(reverse("dashboard:page"), {"team": story.other_team.pk}).status_code == 404


def test_signed_out_goes_to_the_login(client, story: Story) -> None:
    response = client.get(reverse("dashboard:page"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_agent_sees_their_own_figures(client, story: Story) -> None:
    client.force_login(story.alex)
    words = text(client.get(reverse("dashboard:page")))
    assert "Your own commitments" in words
    assert "Refund the duplicate charge" in words and "Fix the thermostat" not in words


def rows_of(response) -> list[dict[str, str]]:
    content = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(content)))


def test_every_list_downloads_as_csv(as_lead, story: Story) -> None:
    response = as_lead.get(reverse("dashboard:list_csv", args=["missed"]))
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="missed.csv"' in response["Content-Disposition"]
    (row,) = rows_of(response)
    assert row["summary"] == "Refund the duplicate charge"
    assert row["owner"] == "alex" and row["status"] == "missed"
    assert row["link"].endswith(story.c["c3"].get_absolute_url())
    for entry in selectors.NOW_LISTS:
        assert as_lead.get(reverse("dashboard:list_csv", args=[entry.key])).status_code == 200
    assert as_lead.get(reverse("dashboard:list_csv", args=["nonsense"])).status_code == 404


def test_the_figures_download_as_csv(as_lead, story: Story) -> None:
    rows = rows_of(as_lead.get(reverse("dashboard:figures_csv")))
    assert [(row["team"], row["owner"]) for row in rows] == [
        ("Home Repairs", ""),
        ("Home Repairs", "alex"),
        ("Home Repairs", "blake"),
    ]
    team = rows[0]
    assert team["commitments"] == "7" and team["on_time_rate"] == "0.6" and team["median_slip_hours"] == "36.0"
    trends = rows_of(as_lead.get(reverse("dashboard:trends_csv")))
    assert len(trends) == 12 and sum(int(row["commitments"]) for row in trends) == 8


def grow(story: Story, count: int) -> None:
    """More commitments of every kind, for every owner and channel."""
    for index in range(count):
        owner = story.alex if index % 2 else story.blake
        commitment = make_commitment(
            actor=owner,
            summary=f"Extra promise {index}",
            customer=customer_details(
                name=f"Customer {index}",
                email=f"customer{index}@example.com",
                phone=f"+1202555{index:04d}",
                preferred_channel=["email", "sms", "phone"][index % 3],
            ),
        )
        status = ["missed", "reopened", "open", "fulfilled"][index % 4]
        Commitment.objects.filter(pk=commitment.pk).update(
            assignee=story.alex if index % 8 == 0 else owner,  # Some handed off to a colleague.
            status=status,
            due_at=story.now + (index % 3 - 1) * DAY,
            fulfilled_at=story.now if index % 4 == 3 else None,
        )


def queries(client, url: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params or {}).status_code == 200
    return len(captured.captured_queries)


def test_the_page_and_the_api_cost_the_same_queries_however_much_data(as_lead, story: Story) -> None:
    from accounts.api_tokens import issue_api_token

    token = issue_api_token(user=story.lead)
    page, api = reverse("dashboard:page"), "/api/v1/dashboard/"

    def both() -> tuple[int, int, int]:
        cache.clear()  # Counted afresh, then kept: the page's count serves the API.
        as_lead.defaults["HTTP_AUTHORIZATION"] = ""
        counting = queries(as_lead, page)
        kept = queries(as_lead, page)
        with CaptureQueriesContext(connection) as captured:
            assert as_lead.get(api, HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
        return counting, kept, len(captured.captured_queries)

    before = both()
    grow(story, 24)
    assert both() == before
    counting, kept, _ = before
    assert kept < counting  # The figures' statement and the owners' names are not asked again.
    # Session, user, teams, memberships, owners, the five lists in one statement, their rows: never more.
    assert kept <= 7


def test_a_long_list_shows_its_first_rows_and_counts_them_all(as_lead, story: Story) -> None:
    grow(story, 48)  # Twelve more missed: thirteen with c3.
    response = as_lead.get(reverse("dashboard:page"))
    words = text(response)
    assert "13 Missed" in words
    shown = re.search(r'id="list-missed".*?</section>', response.content.decode(), re.S)
    assert shown is not None
    assert shown.group(0).count('class="item-title"') == selectors.LIST_LIMIT
    assert f"Showing {selectors.LIST_LIMIT} of 13: the CSV has them all." in words
    assert len(rows_of(as_lead.get(reverse("dashboard:list_csv", args=["missed"])))) == 13


@pytest.mark.django_db
def test_someone_in_no_team_yet_sees_an_empty_dashboard_not_an_error(client):
    from tests.factories import UserFactory

    # Given a new colleague the operator has not yet added to a team
    client.force_login(UserFactory(username="noor"))

    # When they open the dashboard, its figures CSV and the API's figures
    page = client.get(reverse("dashboard:page"))
    figures = client.get(reverse("dashboard:figures_csv"))
    api = client.get("/api/v1/dashboard/")

    # Then each answers, with no team in it
    assert page.status_code == 200
    assert 'class="item ' not in page.content.decode()
    assert figures.status_code == 200
    assert api.status_code == 200
    assert api.json()["teams"] == []
