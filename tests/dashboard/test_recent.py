"""The figures as of a minute ago at most: what is kept equals the live count taken at that moment,
a change shows up within the minute, and the page, the API and the CSVs say when they were counted."""

import csv
import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commitments.models import Commitment, Status
from dashboard import recent, selectors
from tests import live
from tests.api.conftest import client_for
from tests.dashboard.conftest import DAY, Story, event


def _every_figure(figures: selectors.Figures) -> dict[str, object]:
    return {name: getattr(figures, name) for name in selectors.Figures.__dataclass_fields__}


def _all_of(counted: selectors.PageFigures) -> tuple:
    return (
        [
            (
                entry.team.pk,
                _every_figure(entry.figures),
                [(o.owner.pk, _every_figure(o.figures)) for o in entry.owners],
            )
            for entry in counted.teams
        ],
        [(week.starts, _every_figure(week.figures)) for week in counted.weeks],
    )


def _scope(story: Story, narrow: dict) -> selectors.Scope:
    user = story.alex if narrow.get("agent") else story.lead
    owner = {"owner_id": story.blake.pk} if narrow.get("owner") else {}
    scope = selectors.dashboard_scope(user=user, channel=narrow.get("channel", ""), **owner)
    assert scope is not None
    return scope


@pytest.mark.parametrize("period", selectors.PERIODS)
@pytest.mark.parametrize("narrow", [{}, {"owner": "blake"}, {"channel": "sms"}, {"agent": "alex"}])
def test_a_kept_figure_equals_the_live_statement_at_the_moment_it_was_counted(
    story: Story, period: int, narrow: dict
) -> None:
    # Every scope and period asked first (the kept counts of the others must not leak into this one).
    with timezone.override("America/New_York"):
        for other in [{}, {"owner": "blake"}, {"channel": "sms"}, {"agent": "alex"}]:
            for days in selectors.PERIODS:
                recent.recent_page_figures(scope=_scope(story, other), period=days, now=story.now)
        later = story.now + recent.FRESH_FOR - timedelta(seconds=1)
        scope = _scope(story, narrow)
        with CaptureQueriesContext(connection) as captured:
            kept = recent.recent_page_figures(scope=scope, period=period, now=later)
        live = selectors.page_figures(scope=scope, period=period, now=story.now)
    assert kept.as_of == live.as_of == story.now
    assert _all_of(kept) == _all_of(live)
    assert sum(week.figures.total for week in kept.weeks) > 0
    # Kept, not counted again: not one query (the scope's own are made before).
    assert captured.captured_queries == []


def test_a_change_shows_up_within_the_minute(story: Story) -> None:
    scope = selectors.dashboard_scope(user=story.lead)
    assert scope is not None
    (before,) = recent.recent_page_figures(scope=scope, period=30, now=story.now).teams
    assert (before.figures.missed, before.figures.chased) == (1, 2)
    # c5 slips past its due time and is marked missed; the customer of c4 chases us.
    Commitment.objects.filter(pk=story.c["c5"].pk).update(status=Status.MISSED, due_at=story.now - DAY)
    event(story.c["c4"], "chased", story.now, actor=story.blake)

    # Within the minute the figures may still be those counted before, and say so.
    soon = recent.recent_page_figures(scope=scope, period=30, now=story.now + timedelta(seconds=30))
    assert soon.as_of == story.now
    assert (soon.teams[0].figures.missed, soon.teams[0].figures.chased) == (1, 2)

    # A minute on, they are counted again: the change shows, as the live statement has it then.
    a_minute_on = story.now + recent.FRESH_FOR
    after = recent.recent_page_figures(scope=scope, period=30, now=a_minute_on)
    assert after.as_of == a_minute_on
    assert (after.teams[0].figures.missed, after.teams[0].figures.chased) == (2, 3)
    live = selectors.page_figures(scope=scope, period=30, now=a_minute_on)
    assert _all_of(after) == _all_of(live)


def test_while_another_request_counts_again_the_previous_count_is_shown(story: Story) -> None:
    scope = selectors.dashboard_scope(user=story.lead)
    assert scope is not None
    recent.recent_page_figures(scope=scope, period=30, now=story.now)
    # Another web process has begun counting the same figures again.
    cache.add(f"{recent.figures_key(scope, 30, selectors.TREND_WEEKS)}:counting", "elsewhere")
    stale = story.now + recent.FRESH_FOR + timedelta(seconds=5)
    with CaptureQueriesContext(connection) as captured:
        shown = recent.recent_page_figures(scope=scope, period=30, now=stale)
    assert shown.as_of == story.now and captured.captured_queries == []
    # Once it is done (its right to count given back), the next request counts for itself.
    cache.delete(f"{recent.figures_key(scope, 30, selectors.TREND_WEEKS)}:counting")
    assert recent.recent_page_figures(scope=scope, period=30, now=stale).as_of == stale


def test_scopes_periods_and_time_zones_are_kept_apart(story: Story) -> None:
    lead = _scope(story, {})
    agent = _scope(story, {"agent": "alex"})
    blake = _scope(story, {"owner": "blake"})
    texts = _scope(story, {"channel": "sms"})
    keys = {
        recent.figures_key(scope, period, selectors.TREND_WEEKS)
        for scope in (lead, agent, blake, texts)
        for period in selectors.PERIODS
    }
    assert len(keys) == 12
    with timezone.override("Asia/Tokyo"):
        assert recent.figures_key(lead, 30, selectors.TREND_WEEKS) not in keys
    assert recent.recent_page_figures(scope=agent, period=30, now=story.now).teams[0].figures.total == 3
    assert recent.recent_page_figures(scope=lead, period=30, now=story.now).teams[0].figures.total == 7


def test_the_page_says_when_its_figures_were_counted(client, story: Story) -> None:
    client.force_login(story.lead)
    first = client.get(reverse("dashboard:page"))
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", first.content.decode()))
    # The count the page made (in the team's time zone, UTC), kept, and when it was made.
    scope = selectors.dashboard_scope(user=story.lead)
    assert scope is not None
    with timezone.override("UTC"):
        kept = recent.recent_page_figures(scope=scope, period=30)
    counted_at = f"{timezone.localtime(kept.as_of, ZoneInfo('UTC')):%H:%M}"
    assert f"As of {counted_at} (counted again every minute; the lists above are live)" in words
    assert f"as of {counted_at}." in words  # Over the trends too.
    # What needs attention now is live: a commitment missed a moment ago is listed at once.
    Commitment.objects.filter(pk=story.c["c5"].pk).update(status=Status.MISSED, due_at=story.now - DAY)
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(reverse("dashboard:page")).content.decode()))
    assert "2 Missed" in words


def _rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_csvs_say_when_their_figures_were_counted_and_the_api_is_live(client, story: Story) -> None:
    client.force_login(story.lead)
    client.get(reverse("dashboard:page"))
    scope = selectors.dashboard_scope(user=story.lead)
    assert scope is not None
    kept = recent.recent_page_figures(scope=scope, period=30)  # The count the page made, kept.
    figures = _rows(client.get(reverse("dashboard:figures_csv")))
    trends = _rows(client.get(reverse("dashboard:trends_csv")))
    assert len(figures) == 3 and len(trends) == 12
    assert {datetime.fromisoformat(row["as_of"]) for row in figures + trends} == {kept.as_of}
    # An integration reads the figures as they are now: a commitment missed a moment ago counts at
    # once in the API, while the page and the CSVs still show their count of a moment before.
    api = client_for(story.lead)
    before = api.get("/api/v1/dashboard/").json()["teams"][0]["missed"]
    Commitment.objects.filter(pk=story.c["c5"].pk).update(status=Status.MISSED, due_at=story.now - DAY)
    assert api.get("/api/v1/dashboard/").json()["teams"][0]["missed"] == before + 1
    assert recent.recent_page_figures(scope=scope, period=30).teams[0].figures.missed == before


def test_the_figures_are_counted_live_while_the_cache_cannot_be_reached(client, story: Story) -> None:
    # Given the cache that keeps the counts is down (Redis restarting)
    unreachable = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{live.free_port()}/0",
        },
    }
    client.force_login(story.lead)
    scope = selectors.dashboard_scope(user=story.lead)
    assert scope is not None
    with override_settings(CACHES=unreachable):
        # When the lead opens the dashboard, and a wall display polls the API
        page = client.get(reverse("dashboard:page"))
        api = client.get("/api/v1/dashboard/")
    # Then both answer with the figures, counted live
    live_figures = selectors.page_figures(scope=scope, period=30, now=timezone.now())
    [team] = live_figures.teams
    assert page.status_code == 200
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.content.decode()))
    assert f"{team.figures.total} commitment" in words
    assert "As of" in words
    assert api.status_code == 200, api.content
