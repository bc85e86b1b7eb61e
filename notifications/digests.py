"""The lead's daily digest: one email a day per team lead, at FOLLOWTHROUGH_DIGEST_AT in the team's zone.

Run by the periodic sweep. On a team's working day, from the digest time on, each active lead
with an email address gets one ``digest`` notification for that team and day: what is overdue or
missed, what is at risk, what was fulfilled since their last digest, the week's figures, and a
link to the dashboard. Its idempotency key names team, lead and local day, so a second beat, a
second worker or a sweep that runs late never makes a second one; a sweep that comes hours late
(the app was down at eight) still sends it that day rather than never.

A digest is about a team, not one commitment: its outbox row has no commitment.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Holiday, Membership, Team, User
from commitments.models import Channel, Commitment
from dashboard import charts, selectors
from notifications.models import Audience, DeliveryStatus, MessageKind, Notification

logger = logging.getLogger(__name__)

# Enough to read over coffee; the link has the rest.
LISTED = 15
WEEK = 7


def digest_key(team: Team, lead: User, day: date) -> str:
    return f"digest:t{team.pk}:u{lead.pk}:{day.isoformat()}"


def teams_due(now: datetime) -> list[tuple[Team, date]]:
    """The teams whose digest time has come today (their local day), on one of their working days."""
    at = settings.FOLLOWTHROUGH_DIGEST_AT
    due = []
    teams = list(Team.objects.order_by("pk"))
    local_days = {team.pk: timezone.localtime(now, team.zone) for team in teams}
    holidays = set(
        Holiday.objects.filter(team__in=teams, date__in={moment.date() for moment in local_days.values()}).values_list(
            "team_id", "date"
        )
    )
    for team in teams:
        local = local_days[team.pk]
        if local.time() < at or local.isoweekday() not in team.working_weekdays:
            continue
        if (team.pk, local.date()) in holidays:
            continue
        due.append((team, local.date()))
    return due


def send_due_digests(now: datetime | None = None) -> int:
    """Make the digests that are due and not yet made; answer how many were made.

    A run with nothing to do costs three queries (teams, holidays, the keys already made), so
    running it on every sweep is cheap.
    """
    now = now or timezone.now()
    due = teams_due(now)
    if not due:
        return 0
    days = {team.pk: day for team, day in due}
    leads = list(
        Membership.objects.filter(team_id__in=days, role=Membership.Role.LEAD, user__is_active=True)
        .exclude(user__email="")
        .select_related("user", "team")
        .order_by("team_id", "user_id")
    )
    wanted = {digest_key(m.team, m.user, days[m.team_id]): m for m in leads}
    made = set(Notification.objects.filter(idempotency_key__in=list(wanted)).values_list("idempotency_key", flat=True))
    count = 0
    for key, membership in wanted.items():
        if key in made:
            continue
        try:
            with transaction.atomic():
                _make_digest(membership.team, membership.user, key=key, now=now)
            count += 1
        except Exception:  # One team's broken digest must not hold back the others'.
            logger.exception("Could not make the digest %s", key)
    if count:
        logger.info("Made %s daily digest(s)", count)
    return count


@dataclass
class DigestLine:
    summary: str
    owner: str
    when: str
    url: str


def _make_digest(team: Team, lead: User, *, key: str, now: datetime) -> None:
    content = digest_content(team=team, lead=lead, now=now)
    # A key already there (another beat got here first) is skipped by the unique constraint. The
    # sweep that made the row delivers it straight after (``tasks.sweep``).
    Notification.objects.bulk_create(
        [
            Notification(
                commitment=None,
                kind=MessageKind.DIGEST,
                channel=Channel.EMAIL,
                audience=Audience.STAFF,
                recipient=lead.email,
                recipient_user=lead,
                subject=content["subject"],
                body=content["text"],
                html_body=content["html"],
                status=DeliveryStatus.PENDING,
                scheduled_for=now,
                next_attempt_at=now,
                idempotency_key=key,
                created_at=now,
            )
        ],
        ignore_conflicts=True,
    )


def _since_last_digest(team: Team, lead: User, now: datetime) -> datetime:
    previous = (
        Notification.objects.filter(
            kind=MessageKind.DIGEST, recipient_user=lead, idempotency_key__startswith=f"digest:t{team.pk}:u{lead.pk}:"
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return previous or now - timedelta(days=1)


def digest_content(*, team: Team, lead: User, now: datetime) -> dict[str, str]:
    """Subject, text and HTML of one lead's digest for one team, in the team's time zone."""
    scope = selectors.dashboard_scope(user=lead, team_id=team.pk)
    assert scope is not None
    since = _since_last_digest(team, lead, now)
    with timezone.override(team.zone):
        listed = selectors.now_sections(scope=scope, now=now, limit=LISTED)
        sections = {section.entry.key: section for section in listed}
        fulfilled = list(selectors.fulfilled_since(scope=scope, since=since, now=now)[: LISTED + 1])
        (week,) = selectors.team_figures(scope=scope, period=WEEK, now=now)
        late = [*sections["overdue"].rows, *sections["missed"].rows][:LISTED]
        late_count = sections["overdue"].count + sections["missed"].count
        at_risk = sections["at_risk"]
        page = f"{settings.SITE_URL}{reverse('dashboard:page')}?team={team.pk}"
        context = {
            "team": team,
            "lead": lead,
            "day": timezone.localtime(now, team.zone),
            "late": [_line(c, c.due_at) for c in late],
            "late_count": late_count,
            "at_risk": [_line(c, c.due_at) for c in at_risk.rows],
            "at_risk_count": at_risk.count,
            "fulfilled": [_line(c, c.fulfilled_at) for c in fulfilled[:LISTED]],
            "more_fulfilled": len(fulfilled) > LISTED,
            "since": timezone.localtime(since, team.zone),
            "figures": [
                (figure.label, charts.display(figure, week.figures.value(figure.key))) for figure in selectors.FIGURES
            ],
            "week_total": week.figures.total,
            "url": page,
        }
        subject = f"{team.name}: {late_count} overdue or missed, {at_risk.count} at risk"
        text = render_to_string("notifications/staff/daily_digest.txt", context).strip() + "\n"
        html = render_to_string("notifications/staff/daily_digest.html", {**context, "subject": subject})
    return {"subject": subject[:300], "text": text, "html": html}


def _line(commitment: Commitment, moment: datetime | None) -> DigestLine:
    when = timezone.localtime(moment).strftime("%a %d %b %H:%M") if moment else ""
    return DigestLine(
        summary=commitment.summary,
        owner=commitment.owner.display_name,
        when=when,
        url=f"{settings.SITE_URL}{commitment.get_absolute_url()}",
    )
