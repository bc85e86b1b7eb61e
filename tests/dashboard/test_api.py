"""GET /api/v1/dashboard/ as the contract says, and equal to the page's figures."""

import pytest

from dashboard import selectors
from tests.api.conftest import client_for
from tests.dashboard.conftest import Story

URL = "/api/v1/dashboard/"


def test_the_contracts_shape(story: Story) -> None:
    response = client_for(story.lead).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["team"] is None and body["period"] == 30
    (team,) = body["teams"]
    assert team["id"] == story.team.pk and team["name"] == "Home Repairs"
    assert team["open"] == 3 and team["overdue"] == 1 and team["missed"] == 1 and team["at_risk"] == 1
    assert team["on_time_rate"] == pytest.approx(0.6)
    assert team["updates_on_time_rate"] == pytest.approx(1 / 3)
    assert team["chased_rate"] == pytest.approx(2 / 7)
    assert team["satisfaction_rate"] == pytest.approx(2 / 3)
    assert team["promise_accuracy"] == pytest.approx(0.4)
    assert team["median_slip"] == "36h"
    owners = {owner["username"]: owner for owner in team["owners"]}
    assert set(owners) == {"alex", "blake"}  # Lee owns nothing, so is not listed.
    assert owners["alex"]["id"] == story.alex.pk
    assert owners["blake"]["updates_on_time_rate"] is None
    assert owners["alex"]["median_slip"] == "24h"


def test_the_apis_figures_equal_the_pages(story: Story) -> None:
    scope = selectors.dashboard_scope(user=story.lead)
    assert scope is not None
    (entry,) = selectors.team_figures(scope=scope, period=90)
    (team,) = client_for(story.lead).get(URL, {"period": 90}).json()["teams"]
    for key in ("on_time_rate", "updates_on_time_rate", "chased_rate", "satisfaction_rate", "reopened_rate"):
        assert team[key] == pytest.approx(entry.figures.value(key)), key
    assert team["promise_accuracy"] == pytest.approx(entry.figures.promise_held_rate)
    assert team["commitments"] == entry.figures.total == 8


def test_one_team_and_a_period(story: Story) -> None:
    body = client_for(story.lead).get(URL, {"team": story.team.pk, "period": 7}).json()
    assert body["team"] == story.team.pk and body["period"] == 7
    assert body["teams"][0]["commitments"] == 5


def test_another_team_is_a_404_and_bad_input_a_400(story: Story) -> None:
    api = client_for(story.lead)
    assert api.get(URL, {"team": story.other_team.pk}).status_code == 404
    response = api.get(URL, {"period": "soon"})
    assert response.status_code == 400 and "period" in response.json()
    assert api.get(URL, {"period": 0}).status_code == 400
    assert api.get(URL, {"team": ""}).status_code == 400
    response = api.get(URL, {"teams": 1})
    assert response.status_code == 400 and "teams" in response.json()


def test_no_token_is_a_401(client, story: Story) -> None:
    assert client.get(URL).status_code == 401


def test_an_agent_gets_their_own_figures(story: Story) -> None:
    (team,) = client_for(story.blake).get(URL).json()["teams"]
    assert team["commitments"] == 4
    assert [owner["username"] for owner in team["owners"]] == ["blake"]


def test_with_nothing_logged_rates_are_null(story: Story) -> None:
    (team,) = client_for(story.other_lead).get(URL, {"period": 1}).json()["teams"]
    assert team["commitments"] == 0 and team["owners"] == []
    assert team["on_time_rate"] is None and team["chased_rate"] is None and team["satisfaction_rate"] is None
