"""The dashboard page and its CSV exports. Thin: the selectors compute, these show and stream.

``/dashboard/`` answers a lead's morning questions: what is in danger now (by owner, each a link to
its commitment), how the team keeps its word (figures per team and owner over 7, 30 or 90 days,
each with its definition) and which way it is going (12 weeks of trends, drawn on the server).
"""

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import User
from commitments.list_rows import list_rows
from commitments.models import Channel, Commitment
from commitments.views import staff_page
from dashboard import charts, selectors
from dashboard.lists_markup import now_lists
from dashboard.recent import FRESH_FOR, KEPT_FOR, figures_key, recent_page_figures


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _period(request: HttpRequest) -> int:
    period = _int(request.GET.get("period"))
    return period if period in selectors.PERIODS else selectors.DEFAULT_PERIOD


def _scope(request: HttpRequest) -> selectors.Scope:
    user = request.user
    assert isinstance(user, User)
    scope = selectors.dashboard_scope(
        user=user,
        team_id=_int(request.GET.get("team")),
        owner_id=_int(request.GET.get("owner")),
        channel=request.GET.get("channel", ""),
    )
    if scope is None:
        raise Http404("No such team among yours.")
    return scope


def _shown(figures: selectors.Figures) -> list[tuple[selectors.FigureDefinition, str]]:
    return [(figure, charts.display(figure, figures.value(figure.key))) for figure in selectors.FIGURES]


@staff_page
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    period = _period(request)
    now = timezone.now()
    # The figures and the trends counted together, in one statement, at most a minute ago; the
    # lists of what needs attention are live.
    counted = recent_page_figures(scope=scope, period=period, now=now)
    weeks, teams = counted.weeks, counted.teams

    def trends() -> list[charts.Chart]:
        return [charts.trend_chart(figure, weeks) for figure in selectors.FIGURES]

    def figure_rows() -> list[tuple[Any, ...]]:
        return [
            (
                entry,
                scope.leads(entry.team),
                _shown(entry.figures),
                [(owner, _shown(owner.figures)) for owner in entry.owners],
            )
            for entry in teams
        ]

    return render(
        request,
        "dashboard/dashboard.html",
        {
            "nav": "dashboard",
            "scope": scope,
            "period": period,
            "periods": selectors.PERIODS,
            "owners": selectors.owner_choices(scope=scope),
            "channels": Channel.choices,
            # Each list's rows worded in one pass (links, times, badges), as every list words them,
            # and the lists written without the template engine (``dashboard.lists_markup``).
            "now_lists": now_lists(
                (
                    (section, list_rows(section.rows, user=scope.user, now=now))
                    for section in selectors.now_sections(scope=scope, now=now)
                ),
                filters=request.GET.urlencode(),
            ),
            "teams": teams,
            # Drawn only when the page's fragment for this count is not kept already (the template
            # calls them): charts and tables are most of what the figures cost to show.
            "figure_rows": figure_rows,
            "figures": selectors.FIGURES,
            "weeks": weeks,
            "trends": trends,
            "filters": request.GET.urlencode(),
            "last_step": selectors.last_warning_step(),
            "now": now,
            "as_of": counted.as_of,
            "figures_key": figures_key(scope, period, selectors.TREND_WEEKS),
            "kept_seconds": KEPT_FOR.total_seconds(),
            "fresh_minutes": round(FRESH_FOR.total_seconds() / 60),
        },
    )


class _Echo:
    """A file-like object csv.writer can write to, giving back each line for streaming."""

    def write(self, value: str) -> str:
        return value


def _csv(filename: str, rows: Iterable[Iterable[Any]]) -> HttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response  # type: ignore[return-value]  # Streamed: the same to every caller.


def _iso(moment: datetime | None) -> str:
    return timezone.localtime(moment).isoformat() if moment else ""


def _list_rows(key: str, queryset: Iterable[Commitment]) -> Iterator[list[Any]]:
    header = ["id", "summary", "status", "owner", "team", "customer", "channel", "due_at", "next_update_at", "link"]
    if key == "replies":
        header += ["reply_at", "reply"]
    yield header
    for commitment in queryset:
        row: list[Any] = [
            commitment.pk,
            commitment.summary,
            commitment.status,
            commitment.owner.get_username(),
            commitment.team.name,
            commitment.customer.name,
            commitment.customer.preferred_channel,
            _iso(commitment.due_at),
            _iso(commitment.next_update_at),
            f"{settings.SITE_URL}{commitment.get_absolute_url()}",
        ]
        if key == "replies":
            row += [_iso(getattr(commitment, "reply_at", None)), getattr(commitment, "reply_text", "")]
        yield row


@staff_page
@require_GET
def export_list(request: HttpRequest, key: str) -> HttpResponse:
    if key not in selectors.NOW_LISTS_BY_KEY:
        raise Http404("No such list.")
    queryset = selectors.now_list(scope=_scope(request), key=key)
    zone = timezone.get_current_timezone()

    def rows() -> Iterator[list[Any]]:
        # The response streams after the view returns: keep the page's time zone for its times.
        with timezone.override(zone):
            yield from _list_rows(key, queryset.iterator(chunk_size=2000))

    return _csv(f"{key.replace('_', '-')}.csv", rows())


def _figure_values(figures: selectors.Figures) -> list[Any]:
    values: list[Any] = [
        figures.total,
        figures.open,
        figures.overdue,
        figures.missed,
        figures.at_risk,
        figures.fulfilled,
    ]
    for figure in selectors.FIGURES:
        if figure.key == "missed":
            continue
        value = figures.value(figure.key)
        if figure.kind == "duration":
            value = round(value.total_seconds() / 3600, 2) if value is not None else ""
        elif figure.kind == "rate":
            value = round(value, 4) if value is not None else ""
        values.append(value)
    return values


def _figure_header() -> list[str]:
    names = ["commitments", "open", "overdue", "missed", "at_risk", "fulfilled"]
    for figure in selectors.FIGURES:
        if figure.key == "missed":
            continue
        names.append("median_slip_hours" if figure.kind == "duration" else figure.key)
    return names


@staff_page
@require_GET
def export_figures(request: HttpRequest) -> HttpResponse:
    scope, period = _scope(request), _period(request)
    # The page's own count (as of the time in the last column), whichever is asked first.
    counted = recent_page_figures(scope=scope, period=period)
    as_of = _iso(counted.as_of)
    rows: list[list[Any]] = [["period_days", "team", "owner", *_figure_header(), "as_of"]]
    for entry in counted.teams:
        rows.append([period, entry.team.name, "", *_figure_values(entry.figures), as_of])
        for owner in entry.owners:
            rows.append([period, entry.team.name, owner.owner.get_username(), *_figure_values(owner.figures), as_of])
    return _csv(f"figures-{period}-days.csv", rows)


@staff_page
@require_GET
def export_trends(request: HttpRequest) -> HttpResponse:
    # The weeks do not depend on the period: the page's count for the period it shows is the one kept.
    counted = recent_page_figures(scope=_scope(request), period=_period(request))
    as_of = _iso(counted.as_of)
    rows: list[list[Any]] = [["week_starting", *_figure_header(), "as_of"]]
    for week in counted.weeks:
        rows.append([week.starts.date().isoformat(), *_figure_values(week.figures), as_of])
    return _csv("trends-12-weeks.csv", rows)
