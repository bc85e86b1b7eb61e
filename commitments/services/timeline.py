"""The one writer of a commitment's timeline: every event a service records goes through here.

``record_event`` writes one event. A batch (delivery recording the messages it sent) builds its
events with ``new_event`` and writes them with ``record_events``: one INSERT for all. The outbox's
bulk ``COPY`` of a sweep's events is the one other way in (``notifications.outbox``).
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypedDict, Unpack

from django.utils import timezone

from accounts.models import User
from commitments.models import (
    Commitment,
    TimelineEvent,
)
from followthrough.kept_statements import insert


def new_event(
    commitment: Commitment | int,
    kind: str,
    *,
    actor: User | None = None,
    actor_label: str = "",
    message: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> TimelineEvent:
    """One event, not yet written; ``commitment`` may be its id alone (a batch need not read them)."""
    event = TimelineEvent(
        commitment_id=commitment if isinstance(commitment, int) else commitment.pk,
        kind=kind,
        actor=actor,
        actor_label=actor_label or ("" if actor else "system"),
        message=message,
        data=data or {},
        created_at=at or timezone.now(),
    )
    if not isinstance(commitment, int):
        event.commitment = commitment  # Whoever reads the event back need not fetch it again.
    return event


class EventDetails(TypedDict, total=False):
    """What an event says besides its commitment and kind (``new_event``'s keyword arguments)."""

    actor: User | None
    actor_label: str
    message: str
    data: dict[str, Any] | None
    at: datetime | None


def record_event(commitment: Commitment | int, kind: str, **details: Unpack[EventDetails]) -> TimelineEvent:
    """Write one event on a commitment's timeline (by ``actor``, else by the system)."""
    event = new_event(commitment, kind, **details)
    insert(event)
    return event


def record_events(events: Iterable[TimelineEvent]) -> list[TimelineEvent]:
    """Write events made with ``new_event`` in one INSERT (nothing when there are none)."""
    events = list(events)
    return TimelineEvent.objects.bulk_create(events) if events else []
