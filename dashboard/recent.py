"""The dashboard's figures as of a minute ago at most: counted once a minute per scope and period.

Counting a scope's figures reads every commitment of its last twelve weeks and their timelines
(about 70 ms of database time for a team of 50,000 commitments). A lead who reloads the page, the
other leads of the same team and the CSVs would each count the
same figures again, which change little from one minute to the next; under a few such readers
at once, the counting alone outgrows two cores. So the page and its CSVs show the figures as
counted within the last ``FRESH_FOR`` and say when that was ("as of 09:41"); what needs attention
now (the lists) is always live, and so are the API (integrations read figures as they are) and
the digest, counted once a day.

The counts are kept in the project's cache (Redis when there is one, shared by every web process).
When they are older than ``FRESH_FOR``, one request counts them again while the others go on
showing the previous count, itself never older than ``KEPT_FOR``; with none kept at all, the others
wait for that one count rather than each making its own. When the cache cannot be reached (Redis
restarting), every request counts live: slower for a while, never an error.
"""

import hashlib
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from dashboard import selectors

logger = logging.getLogger(__name__)

# A lead reads the dashboard over coffee: a minute-old figure is fine when the page says so.
FRESH_FOR = timedelta(minutes=1)
# A count older than this is never shown, even while another request is counting it again.
KEPT_FOR = 2 * FRESH_FOR
# How long one request may hold the right to count (a count takes well under a second; a request
# that died while counting frees it after this).
COUNTING_FOR = timedelta(seconds=30)
# Waiting for another request's count: how often to look for it, and for how long at most (a count
# takes well under a second; one that died must not hold web workers for the lock's whole life).
WAIT_STEP = 0.02
WAIT_AT_MOST = timedelta(seconds=3)
# Bump when PageFigures (what the cache keeps) changes shape: a deploy never reads the old one.
VERSION = 1


def figures_key(scope: selectors.Scope, period: int, weeks: int) -> str:
    """Who shares a count: the same commitments (the teams led in full, one's own in the others, the
    owner and channel filters), the same period and weeks, in the same time zone (the weeks' edges).
    """
    led = sorted(team.pk for team in scope.shown_teams if scope.leads(team))
    own = sorted(team.pk for team in scope.shown_teams if not scope.leads(team))
    parts = (
        VERSION,
        led,
        own,
        scope.user.pk if own else None,
        scope.owner_id,
        scope.channel,
        period,
        weeks,
        str(timezone.get_current_timezone()),
    )
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"dashboard:figures:{digest}"


def recent_page_figures(
    *, scope: selectors.Scope, period: int, now: datetime | None = None, weeks: int = selectors.TREND_WEEKS
) -> selectors.PageFigures:
    """``selectors.page_figures`` as counted at most ``FRESH_FOR`` before ``now`` (their ``as_of``
    says when), or at most ``KEPT_FOR`` before while another request is counting them again.
    """
    now = now or timezone.now()
    key = figures_key(scope, period, weeks)
    kept = _kept(key)
    if kept is not None and now - kept.as_of < FRESH_FOR:
        return _for(scope, kept)
    counting = f"{key}:counting"
    if _may_count(counting, now):
        try:
            return _count(scope, period, now, weeks, key)
        finally:
            _forget(counting)
    if kept is not None and now - kept.as_of < KEPT_FOR:
        return _for(scope, kept)  # Counted again as we speak: the previous count, and when it was taken.
    # Nothing to show yet and another request is counting: wait for its count rather than add ours.
    deadline = time.monotonic() + WAIT_AT_MOST.total_seconds()
    while time.monotonic() < deadline:
        time.sleep(WAIT_STEP)
        kept = _kept(key)
        if kept is not None and now - kept.as_of < KEPT_FOR:
            return _for(scope, kept)
        if _kept(counting) is None:
            break  # It gave up (an error): count here.
    return _count(scope, period, now, weeks, key)


def _count(scope: selectors.Scope, period: int, now: datetime, weeks: int, key: str) -> selectors.PageFigures:
    counted = selectors.page_figures(scope=scope, period=period, now=now, weeks=weeks)
    try:
        cache.set(key, counted, timeout=KEPT_FOR.total_seconds())
    except Exception:
        logger.warning("Dashboard figures not kept: the cache cannot be reached", exc_info=True)
    return counted


# The cache may be down (Redis restarting): then nothing is kept and every request counts live,
# slower for a while but never an error.


def _kept(key: str) -> Any:
    try:
        return cache.get(key)
    except Exception:
        logger.warning("Dashboard figures counted live: the cache cannot be reached", exc_info=True)
        return None


def _may_count(counting: str, now: datetime) -> bool:
    try:
        return bool(cache.add(counting, now.isoformat(), timeout=COUNTING_FOR.total_seconds()))
    except Exception:
        return True  # No one can say another request is counting: count here.


def _forget(counting: str) -> None:
    try:
        cache.delete(counting)
    except Exception:
        logger.warning("Dashboard count's lock not released: the cache cannot be reached", exc_info=True)


def _for(scope: selectors.Scope, kept: selectors.PageFigures) -> selectors.PageFigures:
    """The kept figures with this request's own team objects (a renamed team shows its new name)."""
    teams = {team.pk: team for team in scope.shown_teams}
    for entry in kept.teams:
        entry.team = teams.get(entry.team.pk, entry.team)
    return kept
