"""The page's "Needs attention now": its tiles and its lists, grouped by owner, as markup.

Written out here rather than in the template, as the lists' rows are (``commitments.list_rows``):
the template language looked up, filtered and escaped these values one at a time, a few
milliseconds a page, more than the rest of the page's markup. ``escape`` is what the template's
autoescaping does (``django.utils.html.escape``: & < > " ' escaped). The markup, its spaces and
line breaks included, is the template's as it was (tests/dashboard/test_lists_markup.py).
"""

from collections.abc import Iterable
from html import escape
from itertools import groupby

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from commitments.list_rows import ListRow
from commitments.templatetags.timing import relative
from dashboard.selectors import NowSection

# A reply is quoted up to this many characters (the rest is in the commitment's timeline).
REPLY_QUOTED = 160


def now_lists(sections: Iterable[tuple[NowSection, list[ListRow]]], *, filters: str) -> SafeString:
    """The tiles (each list's count) and every list with its rows, ``filters`` carried to each CSV link."""
    sections = list(sections)
    tiles = "".join(_tile(section) for section, _ in sections)
    lists = "".join(_section(section, rows, filters) for section, rows in sections)
    return mark_safe(f'<ul class="dash-tiles">\n  {tiles}\n</ul>\n\n{lists}')  # noqa: S308 - escaped parts only


def _tile(section: NowSection) -> str:
    key = escape(section.entry.key)
    hot = " is-hot" if section.count else ""
    return (
        f'\n  <li class="dash-tile dash-tile-{key}{hot}">\n'
        f'    <a href="#list-{key}"><span class="stat-number">{section.count}</span>'
        f'<span class="stat-label">{escape(section.entry.title)}</span></a>\n'
        "  </li>\n  "
    )


def _section(section: NowSection, rows: list[ListRow], filters: str) -> str:
    key = escape(section.entry.key)
    empty = not section.rows
    csv = escape(reverse("dashboard:list_csv", args=[section.entry.key]))
    nothing = ' <span class="muted small">Nothing here.</span>' if empty else ""
    return (
        f'\n<section class="card card-flush dash-list{" is-empty" if empty else ""}" id="list-{key}" '
        f'aria-labelledby="list-{key}-title">\n'
        '  <div class="card-title dash-list-head">\n'
        "    <div>\n"
        f'      <h3 id="list-{key}-title">{escape(section.entry.title)} <span class="badge">{section.count}</span>'
        f"{nothing}</h3>\n"
        f'      <p class="muted small">{escape(section.entry.explanation)}</p>\n'
        "    </div>\n"
        f'    <a class="small" href="{csv}?{escape(filters)}" download>Download CSV</a>\n'
        "  </div>\n  "
        f"{'' if empty else _rows(section, rows)}"
        "\n</section>\n"
    )


def _rows(section: NowSection, rows: list[ListRow]) -> str:
    replies = section.entry.key == "replies"
    groups = []
    # Consecutive rows of the same owner, as the template's ``regroup`` made them (the rows come by owner).
    for owner, grouped in groupby(rows, key=lambda row: row.commitment.owner):
        owned = list(grouped)
        items = "".join(f"\n      {row.html()}\n      {_reply(row) if replies else ''}\n    " for row in owned)
        groups.append(
            f'\n  <h4 class="dash-owner">{escape(owner.display_name)} <span class="muted small">{len(owned)}</span>'
            "</h4>\n"
            f'  <ul class="items">\n    {items}\n  </ul>\n  '
        )
    shown = len(section.rows)
    more = (
        f'<p class="muted small dash-more">Showing {shown} of {section.count}: the CSV has them all.</p>'
        if section.count > shown
        else ""
    )
    return f"\n  \n  {''.join(groups)}\n  {more}\n  "


def _reply(row: ListRow) -> str:
    c = row.commitment
    text = getattr(c, "reply_text", None)
    if not text:
        return ""
    quoted = Truncator(text).chars(REPLY_QUOTED)
    return (
        f'<li class="dash-reply"><span class="muted small">{escape(c.customer.name)} wrote '
        f"{escape(relative(getattr(c, 'reply_at', None)))}:</span> “{escape(quoted)}”</li>"
    )
