"""What a list shows of each commitment (the agent's list, the team list, search, a customer's page).

Everything a row says is worked out here in one pass over the page's fifty commitments, with the
time, the agent's zone and the link patterns read once, and each row's markup is built here too
(``ListRow.html``): the templates only place finished rows. Worded and marked up in a template,
each row's relative times, local times, links and badges cost a few hundred lookups, filter calls
and escapes, and those were most of the time of a list page.

``templates/commitments/_list_rows.html`` places a list's rows; ``_row.html`` (for a single
commitment in hand, e.g. on the dashboard) builds its row here too, so every list shows a
commitment alike.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from html import escape

from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from accounts.models import User
from commitments import selectors
from commitments.models import ACTIVE_STATUSES, Channel, Commitment, Status, Temperature
from commitments.selectors import ListedCommitment
from commitments.templatetags.timing import URGENCY_NAMES, due_phrase, in_zone, relative, short_in_zone

CHANNEL_LABELS = dict(Channel.choices)
STATUS_LABELS = dict(Status.choices)
# The urgency badge beside the status one (a missed commitment's status already says it is overdue).
URGENCY_BADGES = {"overdue": "Overdue", "update-due": "Update due", "soon": "Due soon"}
TEMPERATURE_BADGES = {Temperature.UPSET: "Upset", Temperature.WORRIED: "Worried"}
# The long lists read their rows as plain values (``selectors.ListedCommitment``); a page with a
# few commitments in hand (the dashboard, a customer's page) passes the commitments themselves.
Listed = Commitment | ListedCommitment


@dataclass(frozen=True, slots=True)
class ListRow:
    """One commitment as a list shows it: finished words and links, nothing left to work out."""

    commitment: Listed
    url: str
    urgency: str  # "overdue", "update-due", "soon" or "": the row's colour and its badge
    customer_url: str
    channel_label: str
    people: str  # "Owner → Assignee" on team lists; "from Owner" / "with Assignee" on one's own
    due_phrase: str
    due_local: str  # in the agent's zone, while the clock runs
    their_time: str  # in the customer's zone, when it is not the agent's
    waiting: bool
    waiting_since: str
    next_update: str
    temperature_badge: str
    status_label: str
    urgency_badge: str

    @property
    def urgency_class(self) -> str:
        return self.urgency or "none"

    def html(self) -> SafeString:
        """The row's markup (``<li>``), every word escaped."""
        return mark_safe(_markup(self))  # noqa: S308 - built from escaped values only (_markup)


def list_rows(
    commitments: Iterable[Listed], *, user: User, show_people: bool = False, now: datetime | None = None
) -> list[ListRow]:
    """The rows of a list, in the order given, worded in the current (agent's) time zone."""
    now = now or timezone.now()
    zone = timezone.get_current_timezone_name()
    detail, customer = _link_pattern("commitments:detail"), _link_pattern("commitments:customer")
    return [
        _row(commitment, user=user, show_people=show_people, now=now, zone=zone, detail=detail, customer=customer)
        for commitment in commitments
    ]


def list_row(commitment: Listed, *, user: User, show_people: bool = False) -> ListRow:
    """One row, for a template that has a single commitment in hand."""
    return list_rows([commitment], user=user, show_people=show_people)[0]


def _row(
    c: Listed,
    *,
    user: User,
    show_people: bool,
    now: datetime,
    zone: str,
    detail: tuple[str, str],
    customer: tuple[str, str],
) -> ListRow:
    rank = getattr(c, "urgency", None)  # The lists annotate it; otherwise worked out the same way.
    urgency = URGENCY_NAMES.get(selectors.urgency_of(c, now=now) if rank is None else rank, "")
    still_owed = c.status in ACTIVE_STATUSES
    waiting = c.status == Status.WAITING
    clock_runs = still_owed and not waiting
    their_zone = c.customer.timezone
    return ListRow(
        commitment=c,
        url=f"{detail[0]}{c.pk}{detail[1]}",
        urgency=urgency,
        customer_url=f"{customer[0]}{c.customer_id}{customer[1]}",
        channel_label=CHANNEL_LABELS.get(c.customer.preferred_channel, c.customer.preferred_channel),
        people=_people(c, user=user, show_people=show_people),
        due_phrase=due_phrase(c, now=now),
        due_local=in_zone(c.due_at, zone, now=now) if clock_runs else "",
        their_time=short_in_zone(c.due_at, their_zone) if clock_runs and their_zone != zone else "",
        waiting=waiting,
        waiting_since=relative(c.paused_at, now=now) if waiting else "",
        next_update=relative(c.next_update_at, now=now) if still_owed and c.next_update_at else "",
        temperature_badge=TEMPERATURE_BADGES.get(c.temperature, ""),  # type: ignore[call-overload]
        status_label=STATUS_LABELS.get(c.status, c.status),
        urgency_badge="" if urgency == "overdue" and c.status == Status.MISSED else URGENCY_BADGES.get(urgency, ""),
    )


# The row's markup. Written out here rather than in a template: Django's template language took a
# quarter of a millisecond a row (13 ms of a fifty-row page, the page's biggest cost) to look up and
# escape these same values one at a time. ``escape`` is what the template's autoescaping does
# (``django.utils.html.escape``: & < > " ' escaped), here without its lazy-string checks.
def _markup(row: ListRow) -> str:
    c = row.commitment
    customer = c.customer
    meta = f'<span aria-hidden="true">·</span> {escape(row.people)}' if row.people else ""
    reference = f'<span aria-hidden="true">·</span> {escape(c.external_ref)}' if c.external_ref else ""
    due_local = f'<span class="muted small">{escape(row.due_local)}</span>' if row.due_local else ""
    their_time = (
        f'<span class="muted small" title="The customer\'s local time ({escape(customer.timezone)})">'
        f"{escape(row.their_time)} their time</span>"
        if row.their_time
        else ""
    )
    waiting = (
        f'<span class="muted small">Waiting on the customer since {escape(row.waiting_since)}</span>'
        if row.waiting
        else ""
    )
    next_update = f'<span class="muted small">Next update {escape(row.next_update)}</span>' if row.next_update else ""
    temperature = (
        f'<span class="badge badge-{escape(c.temperature)}">{escape(row.temperature_badge)}</span> '
        if row.temperature_badge
        else ""
    )
    urgency = (
        f' <span class="badge badge-{escape(row.urgency)}">{escape(row.urgency_badge)}</span>'
        if row.urgency_badge
        else ""
    )
    return (
        f'<li class="item urgency-{escape(row.urgency_class)}">\n'
        '  <div class="item-main">\n'
        f'    <a class="item-title" href="{escape(row.url)}">{escape(c.summary)}</a>\n'
        '    <div class="item-meta">\n'
        f'      <a href="{escape(row.customer_url)}">{escape(customer.name)}</a>\n'
        '      <span aria-hidden="true">·</span> '
        f'<span class="channel channel-{escape(customer.preferred_channel)}">{escape(row.channel_label)}</span>\n'
        f"      {meta}\n"
        f"      {reference}\n"
        "    </div>\n"
        "  </div>\n"
        '  <div class="item-when">\n'
        f'    <strong class="due-phrase">{escape(row.due_phrase)}</strong>\n'
        f"    {due_local}\n"
        f"    {their_time}\n"
        f"    {waiting}\n"
        f"    {next_update}\n"
        "  </div>\n"
        f'  <div class="item-badges">{temperature}'
        f'<span class="badge badge-{escape(c.status)}">{escape(row.status_label)}</span>{urgency}</div>\n'
        "</li>\n"
    )


def _people(c: Listed, *, user: User, show_people: bool) -> str:
    handed_off = c.assignee_id != c.owner_id
    if show_people:
        return f"{c.owner.display_name} → {c.assignee.display_name}" if handed_off else c.owner.display_name
    if not handed_off:
        return ""
    return f"from {c.owner.display_name}" if c.assignee_id == user.pk else f"with {c.assignee.display_name}"


def _link_pattern(name: str) -> tuple[str, str]:
    """The page's path around its id, resolved once rather than once a row."""
    return _path_around_id(name, get_script_prefix())


@lru_cache(maxsize=16)
def _path_around_id(name: str, script_prefix: str) -> tuple[str, str]:
    placeholder = 999_999_999
    prefix, _, suffix = reverse(name, args=[placeholder]).partition(str(placeholder))
    return prefix, suffix
