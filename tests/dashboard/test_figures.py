"""Every figure on the hand-built team (see conftest.py), with the answers worked out by hand."""

from datetime import timedelta

import pytest

from dashboard import selectors
from tests.dashboard.conftest import DAY, Story


def figures_of(story: Story, *, user=None, period: int = 30, **narrow):
    scope = selectors.dashboard_scope(user=user or story.lead, **narrow)
    assert scope is not None
    return selectors.team_figures(scope=scope, period=period, now=story.now)


def test_the_team_over_30_days(story: Story) -> None:
    (entry,) = figures_of(story)
    figures = entry.figures
    assert entry.team == story.team
    # c1 c2 c3 c4 c5 c6 c9 (c7 is older, x1 another team's)
    assert figures.total == 7
    assert figures.open == 3  # c3 missed, c4 reopened, c5 open
    assert figures.overdue == 1  # c3
    assert figures.missed == 1  # c3
    assert figures.at_risk == 1  # c4, due in 2 hours (the last warning step is 4 hours)
    assert figures.fulfilled == 4  # c1 c2 c4 c9
    # On time against the due time as it stands: c1, c2 (rescheduled), c4; not c9. Missed: c3.
    assert figures.on_time_rate == pytest.approx(3 / 5)
    assert figures.chased_rate == pytest.approx(2 / 7)  # c1, c5
    assert figures.reopened_rate == pytest.approx(1 / 4)  # c4 of the four fulfilled
    assert figures.satisfaction_rate == pytest.approx(2 / 3)  # c1, c9 confirmed; c4 answered "no"
    # The first promise held for c1 and c4; c2 (a day late) and c9 (two days) slipped; c3 missed.
    assert figures.promise_held_rate == pytest.approx(2 / 5)
    assert figures.median_slip == timedelta(hours=36)
    # c1's update came one interval after the acknowledgement (on time), c2's two days after (late),
    # c3's is owed since an hour ago: 1 of 3.
    assert figures.updates_on_time_rate == pytest.approx(1 / 3)


def test_each_owner(story: Story) -> None:
    (entry,) = figures_of(story)
    owners = {item.owner.username: item.figures for item in entry.owners}
    assert list(owners) == ["alex", "blake"]
    alex, blake = owners["alex"], owners["blake"]
    assert (alex.total, alex.open, alex.overdue, alex.missed, alex.at_risk) == (3, 1, 1, 1, 0)
    assert alex.on_time_rate == pytest.approx(2 / 3)
    assert alex.chased_rate == pytest.approx(1 / 3)
    assert alex.reopened_rate == 0
    assert alex.satisfaction_rate == 1
    assert alex.promise_held_rate == pytest.approx(1 / 3)
    assert alex.median_slip == DAY
    assert alex.updates_on_time_rate == pytest.approx(1 / 3)
    assert (blake.total, blake.open, blake.overdue, blake.missed, blake.at_risk) == (4, 2, 0, 0, 1)
    assert blake.on_time_rate == pytest.approx(1 / 2)
    assert blake.chased_rate == pytest.approx(1 / 4)
    assert blake.reopened_rate == pytest.approx(1 / 2)
    assert blake.satisfaction_rate == pytest.approx(1 / 2)
    assert blake.promise_held_rate == pytest.approx(1 / 2)
    assert blake.median_slip == 2 * DAY
    assert blake.updates_on_time_rate is None  # No update was due: nothing to divide by.


def test_a_longer_period_takes_older_commitments_in(story: Story) -> None:
    (entry,) = figures_of(story, period=90)
    assert entry.figures.total == 8
    # c7 was fulfilled a day after its due time: 3 on time of 5 fulfilled + 1 missed.
    assert entry.figures.on_time_rate == pytest.approx(3 / 6)
    # Slips: c2 1 day, c9 2 days, c7 2 days.
    assert entry.figures.median_slip == 2 * DAY


def test_a_week_only_takes_the_last_seven_days(story: Story) -> None:
    (entry,) = figures_of(story, period=7)
    # c3 c4 c5 c6 c9 (c1 and c2 were logged 10 and 8 days ago)
    assert entry.figures.total == 5


def test_an_agent_sees_only_their_own_figures(story: Story) -> None:
    (entry,) = figures_of(story, user=story.alex)
    assert entry.figures.total == 3
    assert [item.owner for item in entry.owners] == [story.alex]


def test_filters_by_owner_and_channel(story: Story) -> None:
    (entry,) = figures_of(story, owner_id=story.blake.pk)
    assert entry.figures.total == 4
    (entry,) = figures_of(story, channel="sms")
    assert entry.figures.total == 1  # c5, whose customer prefers texts
    assert entry.figures.chased_rate == 1


def test_another_teams_figures_are_never_shown(story: Story) -> None:
    assert selectors.dashboard_scope(user=story.lead, team_id=story.other_team.pk) is None
    (entry,) = figures_of(story, user=story.other_lead)
    assert entry.team == story.other_team
    assert entry.figures.total == 1
    assert entry.figures.missed == 1


def test_nothing_to_measure_is_none_not_zero(story: Story) -> None:
    (entry,) = figures_of(story, channel="phone")
    figures = entry.figures
    assert figures.total == 0
    assert figures.on_time_rate is None
    assert figures.chased_rate is None
    assert figures.satisfaction_rate is None
    assert figures.median_slip is None


def test_weekly_trends_put_each_commitment_in_the_week_it_was_logged(story: Story) -> None:
    from django.utils import timezone

    scope = selectors.dashboard_scope(user=story.lead)
    assert scope is not None
    with timezone.override("UTC"):
        weeks = selectors.weekly_trends(scope=scope, now=story.now)
    assert len(weeks) == 12
    assert [week.starts.weekday() for week in weeks] == [0] * 12
    assert weeks[-1].starts <= story.now < weeks[-1].starts + timedelta(weeks=1)
    # c7 was logged 40 days ago; the other seven within the last 10 days.
    assert sum(week.figures.total for week in weeks) == 8
    for name in ("c1", "c3", "c7"):
        logged = story.c[name].created_at
        (week,) = [week for week in weeks if week.starts <= logged < week.starts + timedelta(weeks=1)]
        assert week.figures.total >= 1
    assert sum(week.figures.missed for week in weeks) == 1
    assert sum(week.figures.fulfilled for week in weeks) == 5


def _update_counts(figures: selectors.Figures) -> tuple[int, int, int]:
    return figures.updates_sent, figures.updates_sent_on_time, figures.updates_unsent


@pytest.mark.parametrize("period", selectors.PERIODS)
def test_the_page_counts_updates_once_for_its_figures_and_trends_alike(story: Story, period: int) -> None:
    from django.utils import timezone

    scope = selectors.dashboard_scope(user=story.lead)
    assert scope is not None
    with timezone.override("America/New_York"):
        updates = selectors.page_update_counts(scope=scope, period=period, now=story.now)
        shared_teams = selectors.team_figures(scope=scope, period=period, now=story.now, updates=updates)
        own_teams = selectors.team_figures(scope=scope, period=period, now=story.now)
        shared_weeks = selectors.weekly_trends(scope=scope, now=story.now, updates=updates)
        own_weeks = selectors.weekly_trends(scope=scope, now=story.now)
    ((shared, own),) = zip(shared_teams, own_teams, strict=True)
    assert _update_counts(shared.figures) == _update_counts(own.figures)
    # c1's update on time, c2's late, c3's owed (c7, 40 days old, had none).
    assert _update_counts(shared.figures) == ((0, 0, 1) if period == 7 else (2, 1, 1))
    assert [(o.owner, _update_counts(o.figures)) for o in shared.owners] == [
        (o.owner, _update_counts(o.figures)) for o in own.owners
    ]
    assert [_update_counts(week.figures) for week in shared_weeks] == [
        _update_counts(week.figures) for week in own_weeks
    ]
    assert sum(week.figures.updates_sent for week in shared_weeks) == 2
    assert sum(week.figures.updates_sent_on_time for week in shared_weeks) == 1


def test_an_update_is_due_from_the_message_strictly_before_it(story: Story) -> None:
    from commitments.models import TimelineEvent
    from tests.dashboard.conftest import event

    # A message logged at the very instant of c2's late update is not the one before it: still late.
    event(story.c["c2"], TimelineEvent.Kind.RESCHEDULED, story.now - 6 * DAY)
    scope = selectors.dashboard_scope(user=story.lead)
    assert scope is not None
    updates = selectors.page_update_counts(scope=scope, period=30, now=story.now)
    for entry in (
        *selectors.team_figures(scope=scope, now=story.now),
        *selectors.team_figures(scope=scope, now=story.now, updates=updates),
    ):
        assert entry.figures.updates_on_time_rate == pytest.approx(1 / 3)


def _every_figure(figures: selectors.Figures) -> dict[str, object]:
    return {name: getattr(figures, name) for name in selectors.Figures.__dataclass_fields__}


@pytest.mark.parametrize("period", selectors.PERIODS)
@pytest.mark.parametrize("narrow", [{}, {"owner": "blake"}, {"channel": "sms"}, {"agent": "alex"}])
def test_the_pages_one_statement_equals_the_grouped_queries(story: Story, period: int, narrow: dict) -> None:
    """The page counts its figures, its owners' and its weeks' in one statement; the grouped queries
    (one per grouping, the timeline asked per commitment) are the reference, figure by figure.
    """
    from django.utils import timezone

    from tests.dashboard.conftest import event

    # A second chase, a reopening by us (not the customer) and an event logged before the commitment
    # (never counted): the timeline's signals must agree either way.
    event(story.c["c1"], "chased", story.now - 6 * DAY, actor=story.alex)
    event(story.c["c2"], "reopened", story.now - 2 * DAY, actor=story.alex)
    event(story.c["c5"], "reopened", story.now - 3 * DAY, label="customer")
    user = story.alex if narrow.get("agent") else story.lead
    owner = {"owner_id": story.blake.pk} if narrow.get("owner") else {}
    scope = selectors.dashboard_scope(user=user, channel=narrow.get("channel", ""), **owner)
    assert scope is not None
    with timezone.override("America/New_York"):
        counted = selectors.page_figures(scope=scope, period=period, now=story.now)
        updates = selectors.page_update_counts(scope=scope, period=period, now=story.now)
        teams = selectors.team_figures(scope=scope, period=period, now=story.now, updates=updates)
        weeks = selectors.weekly_trends(scope=scope, now=story.now, updates=updates)
    assert [entry.team for entry in counted.teams] == [entry.team for entry in teams]
    for one, other in zip(counted.teams, teams, strict=True):
        assert _every_figure(one.figures) == _every_figure(other.figures)
        assert [(o.owner, _every_figure(o.figures)) for o in one.owners] == [
            (o.owner, _every_figure(o.figures)) for o in other.owners
        ]
    assert [(week.starts, _every_figure(week.figures)) for week in counted.weeks] == [
        (week.starts, _every_figure(week.figures)) for week in weeks
    ]
    assert sum(week.figures.total for week in counted.weeks) > 0
