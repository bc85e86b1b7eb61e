"""The one writer of a commitment's timeline: every event a service records goes through record_event."""

from datetime import datetime
from typing import Any

from django.utils import timezone

from accounts.models import User
from commitments.models import (
    Commitment,
    TimelineEvent,
)


def record_event(
    commitment: Commitment,
    kind: str,
    *,
    actor: User | None = None,
    actor_label: str = "",
    message: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> TimelineEvent:
    return TimelineEvent.objects.create(
        commitment=commitment,
        kind=kind,
        actor=actor,
        actor_label=actor_label or ("" if actor else "system"),
        message=message,
        data=data or {},
        created_at=at or timezone.now(),
    )
