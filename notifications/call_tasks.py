"""Call tasks: a customer who prefers the phone hears from us through their owner's call.

The routing rules (``notifications.routing``) send such a customer's message as a ``call_task``:
the outbox makes it (to the owner, with what to say) wherever another customer would get an email
or a text. Logging the call closes the task, and every older open task on the same
commitment (one call says it all), puts the call on the timeline and counts as the customer having
heard from us: the next proactive update is one interval from now.
"""

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from commitments.errors import IllegalMove, InvalidInput
from commitments.models import Commitment, TimelineEvent
from commitments.services import automatic, ensure_can_act
from commitments.services.timeline import record_event
from notifications.models import MessageKind, Notification

NOTE_LIMIT = 5000


@transaction.atomic
def log_call(*, actor: User, task: Notification, note: str = "") -> Notification:
    """The owner (or whoever may act on the commitment) made the call: the task is done."""
    note = (note or "").strip()
    if len(note) > NOTE_LIMIT:
        raise InvalidInput({"note": [f"Keep this under {NOTE_LIMIT} characters."]})
    assert task.commitment_id is not None  # A call task is always about a commitment.
    commitment = (
        Commitment.objects.select_for_update()
        .select_related("customer", "team", "owner", "assignee")
        .get(pk=task.commitment_id)
    )
    task = Notification.objects.select_for_update().get(pk=task.pk)
    if task.kind != MessageKind.CALL_TASK:
        raise InvalidInput({"task": ["This is not a call task."]})
    ensure_can_act(actor, commitment)
    if task.completed_at is not None:
        raise IllegalMove("This call is already logged.")
    now = timezone.now()
    covered = list(
        Notification.objects.filter(
            commitment=commitment,
            kind=MessageKind.CALL_TASK,
            completed_at__isnull=True,
            created_at__lte=task.created_at,
        ).values_list("pk", flat=True)
    )
    Notification.objects.filter(pk__in=[*covered, task.pk]).update(completed_at=now, escalate_at=None)
    task.completed_at, task.escalate_at = now, None
    automatic.reset_update_clock_after_call(commitment, now=now)
    record_event(
        commitment=commitment,
        kind=TimelineEvent.Kind.CALL_LOGGED,
        actor=actor,
        message=note,
        data={
            "task": task.pk,
            "tasks_done": sorted({*covered, task.pk}),
            "about": task.customer_kind,
            "phone": commitment.customer.phone,
        },
        at=now,
    )
    return task
