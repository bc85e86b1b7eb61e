"""The update composer: an update in four prompted parts, previewed as the customer will get it.

What is done, what happens next, what we do not know yet (and how we will find out), and when the
customer hears from us next. The first three, with anything the agent writes in their own words,
make the message; the fourth sets when the next update is due (never later than the cadence) and
is told by the message's own "next update by" line. The preview renders the very message the
outbox would write, on the customer's channel, with the coach's advice beside it.
"""

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from commitments import coach
from commitments.models import Channel, Commitment, GlossaryTerm
from notifications import routing, segments, time_words, wording
from notifications.models import MessageKind

# Prefilled next-contact times are rounded down to the quarter hour, so they stay within the cadence.
ROUND_TO = timedelta(minutes=15)


def compose_update(*, done: str = "", next_step: str = "", not_known: str = "", message: str = "") -> str:
    """The message from its parts, one paragraph each, in the order the customer needs them."""
    parts = (done, next_step, not_known, message)
    return "\n\n".join(time_words.as_sentence(" ".join(part.split())) for part in parts if part and part.strip())


def cadence_limit(commitment: Commitment, *, now: datetime) -> datetime:
    """The latest next contact the cadence allows, were an update sent now."""
    return routing.send_time(commitment.customer, now) + commitment.update_interval


def cadence_next_contact(commitment: Commitment, *, now: datetime) -> datetime:
    """What the composer proposes for "when they hear from us next": the cadence's time, on a quarter hour."""
    limit = cadence_limit(commitment, now=now)
    step = int(ROUND_TO.total_seconds())
    rounded = datetime.fromtimestamp(int(limit.timestamp()) // step * step, tz=limit.tzinfo)
    return rounded if rounded > now else limit


def next_update_after_sending(commitment: Commitment, *, now: datetime, next_contact_at: datetime | None) -> datetime:
    """When the next proactive update is due once this one is sent: the agent's time, never later than the cadence."""
    limit = cadence_limit(commitment, now=now)
    if next_contact_at is None or next_contact_at <= now:
        return limit
    return min(next_contact_at, limit)


def customer_language(commitment: Commitment) -> str:
    """The language the customer is written to (a customer without one gets the product's default)."""
    chosen = getattr(commitment.customer, "language", "") or getattr(settings, "FOLLOWTHROUGH_LANGUAGE", "en")
    return str(chosen).split("-")[0].lower()


def glossary_of(team_ids: list[int]) -> dict[str, str]:
    return dict(GlossaryTerm.objects.filter(team_id__in=team_ids).values_list("term", "plain"))


@dataclass(frozen=True)
class Preview:
    """What the customer gets on their channel, with its size when it is a text."""

    channel: str
    subject: str
    text: str
    html: str = ""
    length: int = 0
    segments: int = 0
    encoding: str = ""
    warnings: list[coach.Warning] = field(default_factory=list)
    next_update_at: datetime | None = None


def preview_update(commitment: Commitment, *, message: str, next_contact_at: datetime | None, now: datetime) -> Preview:
    """The status update the customer would get if it were sent now, and the coach's advice on it."""
    channel = outbox_channel(commitment, now=now)
    sent = copy.copy(commitment)  # In memory only: the commitment as it would stand after sending.
    sent.last_update_at = now
    sent.next_update_at = next_update_after_sending(commitment, now=now, next_contact_at=next_contact_at)
    content = wording.render_customer_message(
        sent, MessageKind.STATUS_UPDATE, message=message, channel=channel, now=now
    )
    advice = advise(commitment, text=message, next_contact_at=next_contact_at, now=now)
    if channel == Channel.SMS:
        length, encoding = segments.sms_length(content.text)
        return Preview(
            channel=channel,
            subject="",
            text=content.text,
            length=length,
            segments=segments.sms_segments(content.text),
            encoding=encoding,
            warnings=advice,
            next_update_at=sent.next_update_at,
        )
    return Preview(
        channel=channel,
        subject=content.subject,
        text=content.text,
        html=content.html if channel == Channel.EMAIL else "",
        warnings=advice,
        next_update_at=sent.next_update_at,
    )


def outbox_channel(commitment: Commitment, *, now: datetime) -> str:
    """The channel the outbox would use for a status update to this customer now (routing's rules:
    a texting customer who said STOP gets email, a phone customer a call task)."""
    return routing.route(commitment.customer, MessageKind.STATUS_UPDATE, at=now).channel


def advise(
    commitment: Commitment, *, text: str, next_contact_at: datetime | None, now: datetime
) -> list[coach.Warning]:
    """The coach on the agent's words, knowing the commitment: its language, glossary and cadence.

    The composer's fourth part is a time, not words: when it is given the update does say when
    the customer hears from us next (the message's own line), and it is late only if the time is.
    """
    limit = cadence_limit(commitment, now=now)
    zone = commitment.customer.zone
    advice = coach.coach(
        text,
        language=customer_language(commitment),
        glossary=glossary_of([commitment.team_id]),
        next_contact_by=limit,
        zone=zone,
        now=now,
    )
    warnings = advice.warnings
    if next_contact_at is not None:
        warnings = [warning for warning in warnings if warning.kind != coach.NO_NEXT_CONTACT]
        if next_contact_at > limit:
            when = time_words.short_time(next_contact_at, zone)
            phrases = coach.PHRASES.get(customer_language(commitment), coach.ENGLISH)
            warnings.append(
                coach.Warning(
                    kind=coach.LATE_NEXT_CONTACT,
                    text=when,
                    start=0,
                    end=0,
                    suggestion=phrases.late_advice.format(when=time_words.short_time(limit, zone)),
                )
            )
    return warnings


def warning_rows(warnings: list[coach.Warning]) -> list[dict[str, Any]]:
    labels = {
        coach.HEDGING: "Hedging",
        coach.CONDITIONAL_APOLOGY: "Apology with an “if”",
        coach.BLAME: "Blame",
        coach.JARGON: "Jargon",
        coach.NO_NEXT_CONTACT: "No next contact",
        coach.LATE_NEXT_CONTACT: "Later than the cadence",
    }
    return [{"label": labels[warning.kind], "warning": warning} for warning in warnings]
