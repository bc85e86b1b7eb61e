"""What needs attention now: each list, as the lead's morning finds it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from commitments import services
from commitments.customer import services as customer_services
from commitments.models import Commitment, Status
from dashboard import selectors
from notifications import call_tasks
from notifications.models import Notification
from tests.dashboard.conftest import DAY, HOUR, Story
from tests.factories import make_commitment
from tests.indexes import columns_of_index, commitment_columns_read


def listed(story: Story, key: str, *, user=None, now=None, **narrow) -> list[str]:
    scope = selectors.dashboard_scope(user=user or story.lead, **narrow)
    assert scope is not None
    found = selectors.now_list(scope=scope, key=key, now=now or story.now)
    return [c.summary for c in found[: selectors.LIST_LIMIT]]


def test_missed_overdue_reopened_and_at_risk(story: Story) -> None:
    assert listed(story, "missed") == ["Refund the duplicate charge"]
    assert listed(story, "reopened") == ["Fix the thermostat"]
    assert listed(story, "at_risk") == ["Fix the thermostat"]  # due in 2 hours
    # Past due but not yet marked missed by the sweep.
    Commitment.objects.filter(pk=story.c["c5"].pk).update(due_at=story.now - HOUR)
    assert listed(story, "overdue") == ["Ship the filter"]
    assert "Ship the filter" not in listed(story, "at_risk")


def test_at_risk_takes_an_overdue_update_and_an_undone_call(story: Story) -> None:
    c5 = story.c["c5"]
    Commitment.objects.filter(pk=c5.pk).update(next_update_at=story.now - timedelta(minutes=5))
    assert listed(story, "at_risk") == ["Fix the thermostat", "Ship the filter"]

    Commitment.objects.filter(pk=c5.pk).update(next_update_at=story.now + DAY)
    task = Notification.objects.create(
        commitment=c5,
        kind="call_task",
        channel="email",
        audience="staff",
        recipient=story.blake.email,
        recipient_user=story.blake,
        subject="Call Priya Raman",
        body="Tell her the filter ships today.",
        idempotency_key=f"{c5.pk}:call_task:test",
        scheduled_for=story.now - HOUR,
    )
    assert "Ship the filter" in listed(story, "at_risk")
    call_tasks.log_call(actor=story.blake, task=task, note="Told her.")
    assert "Ship the filter" not in listed(story, "at_risk")


def test_lists_are_grouped_by_owner(story: Story) -> None:
    Commitment.objects.filter(pk__in=[story.c["c4"].pk, story.c["c2"].pk]).update(status=Status.MISSED)
    scope = selectors.dashboard_scope(user=story.lead)
    assert scope is not None
    owners = [c.owner.username for c in selectors.now_list(scope=scope, key="missed", now=story.now)]
    assert owners == ["alex", "alex", "blake"]


def test_a_reply_waits_until_someone_answers_it(story: Story) -> None:
    c5 = story.c["c5"]
    customer_services.record_text_reply(customers=[c5.customer], body="Is it shipping today?", message_sid="SM1")
    scope = selectors.dashboard_scope(user=story.lead)
    assert scope is not None
    (row,) = selectors.now_list(scope=scope, key="replies")
    assert row.pk == c5.pk and getattr(row, "reply_text", "") == "Is it shipping today?"

    # An automatic "nothing new" update is not an answer; a person's update is.
    services.send_update(actor=story.blake, commitment=c5, message="Yes: it leaves the warehouse at 3 pm.")
    assert list(selectors.now_list(scope=scope, key="replies")) == []


def test_an_agent_sees_only_their_own_and_another_team_nothing(story: Story) -> None:
    assert listed(story, "missed", user=story.blake) == []
    assert listed(story, "reopened", user=story.blake) == ["Fix the thermostat"]
    assert listed(story, "missed", user=story.other_lead) == ["Another team's promise"]


def test_filter_by_channel(story: Story) -> None:
    Commitment.objects.filter(pk=story.c["c5"].pk).update(status=Status.MISSED)
    assert listed(story, "missed", channel="sms") == ["Ship the filter"]
    assert listed(story, "missed", channel="email") == ["Refund the duplicate charge"]


def test_fulfilled_since(story: Story) -> None:
    scope = selectors.dashboard_scope(user=story.lead)
    assert scope is not None
    found = selectors.fulfilled_since(scope=scope, since=story.now - timedelta(hours=36), now=story.now)
    assert [c.summary for c in found] == ["Replace the valve"]


def test_a_live_commitment_fulfilled_now_counts(story: Story) -> None:
    fresh = make_commitment(actor=story.alex, summary="Email the invoice")
    services.fulfil(actor=story.alex, commitment=fresh, resolution="Sent.")
    scope = selectors.dashboard_scope(user=story.lead)
    assert scope is not None
    found = selectors.fulfilled_since(scope=scope, since=timezone.now() - HOUR)
    assert [c.summary for c in found] == ["Email the invoice"]


# The page's lists (``now_sections``): their statement is written once per scope and moved to each
# request's moment (``dashboard.selectors._listed``).


@pytest.fixture
def nothing_kept(monkeypatch):
    """No statement kept from another test (whose teams may have had the same ids)."""
    monkeypatch.setattr(selectors, "_STATEMENTS", {})


def shown(story: Story, now, **narrow) -> dict[str, list[str]]:
    scope = selectors.dashboard_scope(user=story.lead, **narrow)
    assert scope is not None
    sections = selectors.now_sections(scope=scope, now=now)
    return {section.entry.key: [c.summary for c in section.rows] for section in sections}


def each_list(story: Story, now, **narrow) -> dict[str, list[str]]:
    return {entry.key: listed(story, entry.key, **narrow, now=now) for entry in selectors.NOW_LISTS}


def test_the_pages_lists_follow_the_clock(story: Story, nothing_kept) -> None:
    # Given the lead's page shown once, the thermostat due in two hours and at risk
    assert shown(story, story.now) == each_list(story, story.now)
    assert shown(story, story.now)["at_risk"] == ["Fix the thermostat"]
    # When the lead looks again three hours later, and a day and a half later
    for later in (story.now + 3 * HOUR, story.now + 36 * HOUR):
        # Then each list is what it is at that moment: the thermostat is now overdue
        assert shown(story, later) == each_list(story, later)
        assert shown(story, later)["overdue"] == ["Fix the thermostat"]


def test_a_list_that_compares_with_a_fixed_time_is_still_right_at_every_moment(
    story: Story, nothing_kept, monkeypatch
) -> None:
    # Given a list narrowed by a fixed time, not by "now" moved by a setting
    since = story.now - 20 * DAY
    unlisted = selectors._unlisted
    monkeypatch.setattr(selectors, "_unlisted", lambda *args: unlisted(*args).filter(created_at__gte=since))
    assert shown(story, story.now)["missed"] == ["Refund the duplicate charge"]
    # When the lead looks a hundred days later, Then the fixed time has not moved with the clock
    assert shown(story, story.now + 100 * DAY)["missed"] == ["Refund the duplicate charge"]


def test_the_status_lists_are_answered_from_the_team_status_index_alone(story: Story) -> None:
    # Given the statements that pick the first rows of the overdue, missed, at-risk and reopened
    # lists, for a lead and for an agent
    covered = columns_of_index("commitment_team_status_due")
    for user in (story.lead, story.alex):
        scope = selectors.dashboard_scope(user=user)
        assert scope is not None
        for first in selectors._firsts(scope, story.now, selectors.LIST_LIMIT):
            sql, _ = first.query.sql_with_params()
            if "commitments_timelineevent" in sql:
                continue  # The replies list starts from the replies, not from the statuses.
            used = commitment_columns_read(sql)
            # Then every column they read of a commitment is in the index: at a million commitments
            # each reads only its statuses' entries of the team, never the commitments' rows (an
            # Index Only Scan, see docs/benchmarks.md); a column a list adds must be added to it too
            assert used, sql
            assert used <= covered, used - covered
