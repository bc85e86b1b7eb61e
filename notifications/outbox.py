"""The transactional outbox: messages are written in the caller's transaction, sent after commit.

Services call ``notify_customer`` and ``notify_staff`` inside their transaction; the sweeps gather
the messages of a whole batch in one ``Outgoing`` and write them all at once. Each message is a
``Notification`` row with a unique idempotency key: a key already present means the message was
made before, and nothing happens. Delivery is enqueued only once the transaction commits, and only
for rows due now; the periodic sweep picks up the rest when their time comes, and anything whose
enqueue was lost.

Which channel a customer's message takes, and when (quiet hours, STOP, call tasks, an email
that bounced, an unsubscribe), is decided by ``notifications.routing``; the outbox writes what it
answers, with the timeline note it gives.

A sweep's batch of thousands of messages goes to PostgreSQL with one ``COPY``, its timeline events
with another: no model instances, no statement with tens of thousands of parameters to build and
parse.
"""

import functools
import io
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from django.db import IntegrityError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models.constants import OnConflict
from django.utils import timezone

from accounts.models import User
from commitments.models import Channel, Commitment, TimelineEvent
from commitments.schedule import WorkingHours, call_task_escalation_time
from commitments.services.timeline import record_events
from followthrough.kept_statements import insert_new, writes_directly
from notifications import queueing, routing, wording
from notifications.models import Audience, DeliveryStatus, MessageKind, Notification

logger = logging.getLogger(__name__)


class OutboxRow(NamedTuple):
    """One outbox row as the outbox writes it; the other columns start at their defaults."""

    commitment_id: int
    kind: str
    customer_kind: str
    channel: str
    audience: str
    recipient: str
    recipient_user_id: int | None
    subject: str
    body: str
    layout: Mapping[str, Any]
    status: str
    scheduled_for: datetime
    next_attempt_at: datetime
    escalate_at: datetime | None
    idempotency_key: str
    created_at: datetime


class Event(NamedTuple):
    """One timeline event as the outbox writes it."""

    commitment_id: int
    kind: str
    actor_id: int | None
    actor_label: str
    message: str
    data: Mapping[str, Any]
    created_at: datetime


class Outgoing:
    """Messages and timeline events written together, enqueued for delivery after commit.

    ``hours`` may carry the teams' working hours already read, so a batch asks for holidays once.
    ``bulk`` (the sweeps) writes with ``COPY`` on PostgreSQL; a service's one or two messages go
    in with a plain insert.
    """

    def __init__(
        self, *, now: datetime | None = None, hours: Mapping[int, WorkingHours] | None = None, bulk: bool = False
    ) -> None:
        self.now = now or timezone.now()
        self.bulk = bulk
        self.messages: list[OutboxRow] = []
        self.events: list[Event] = []
        self._hours: dict[int, WorkingHours] = dict(hours or {})

    # --- Building ---------------------------------------------------------------------------

    def to_customer(
        self,
        commitment: Commitment,
        kind: str,
        *,
        key: str,
        message: str = "",
        scheduled_for: datetime | None = None,
        automatic: bool = False,
        since: datetime | None = None,
        way: routing.Route | None = None,
    ) -> OutboxRow:
        """One message to the customer on the channel the routing rules choose (``notifications.routing``).

        ``way`` is that choice when the caller already asked ``routing.route`` (with the same customer,
        kind, moment and ``automatic``): a sweep times the commitment's next update from it first.
        """
        if way is None:
            way = routing.route(commitment.customer, kind, at=scheduled_for or self.now, automatic=automatic)
        if way.note:
            self.note(commitment, way.note, kind)
        if way.call_task:
            return self._call_task(commitment, kind, key=key, message=message, since=since, when=way.send_at)
        channel = way.channel
        content = wording.render_customer_message(
            commitment, kind, message=message, channel=channel, since=since, now=self.now
        )
        row = OutboxRow(
            commitment_id=commitment.pk,
            kind=kind,
            customer_kind="",
            channel=channel,
            audience=Audience.CUSTOMER,
            recipient=way.recipient,
            recipient_user_id=None,
            subject=content.subject,
            body=content.text,
            # The agent's own words, kept so a bounced email can go again as a text.
            layout={**content.layout, "message": message} if message and content.layout else content.layout,
            status=DeliveryStatus.SUPPRESSED if way.suppressed else DeliveryStatus.PENDING,
            scheduled_for=way.send_at,
            next_attempt_at=way.send_at,
            escalate_at=None,
            idempotency_key=key,
            created_at=self.now,
        )
        self.messages.append(row)
        return row

    def to_staff(
        self,
        commitment: Commitment,
        kind: str,
        *,
        recipients: Iterable[User],
        key: str,
        message: str = "",
        scheduled_for: datetime | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> list[OutboxRow]:
        """One email per member of staff (each once); each key gets the recipient's id appended."""
        when = scheduled_for or self.now
        people = [user for user in {user.pk: user for user in recipients}.values() if user.email]
        if not people:
            return []
        contents = wording.render_staff_messages(
            commitment, kind, recipients=people, message=message, details=details, now=self.now
        )
        rows = [
            OutboxRow(
                commitment_id=commitment.pk,
                kind=kind,
                customer_kind="",
                channel=Channel.EMAIL,
                audience=Audience.STAFF,
                recipient=user.email,
                recipient_user_id=user.pk,
                subject=content.subject,
                body=content.text,
                layout=content.layout,
                status=DeliveryStatus.PENDING,
                scheduled_for=when,
                next_attempt_at=when,
                escalate_at=None,
                idempotency_key=f"{key}:u{user.pk}",
                created_at=self.now,
            )
            for user, content in zip(people, contents, strict=True)
        ]
        self.messages.extend(rows)
        return rows

    def note(self, commitment: Commitment, message: str, kind: str = "", **data: Any) -> Event:
        """A line on the commitment's timeline about a message (by the system)."""
        return self.event(commitment, TimelineEvent.Kind.MESSAGE, message=message, data={"kind": kind, **data})

    def event(
        self,
        commitment: Commitment,
        kind: str,
        *,
        message: str = "",
        data: Mapping[str, Any] | None = None,
        actor: User | None = None,
    ) -> Event:
        row = Event(
            commitment_id=commitment.pk,
            kind=kind,
            actor_id=actor.pk if actor else None,
            actor_label="" if actor else "system",
            message=message,
            data=data or {},
            created_at=self.now,
        )
        self.events.append(row)
        return row

    def hours_for(self, commitment: Commitment) -> WorkingHours:
        hours = self._hours.get(commitment.team_id)
        if hours is None:
            hours = self._hours[commitment.team_id] = WorkingHours.of(commitment.team)
        return hours

    def _call_task(
        self,
        commitment: Commitment,
        kind: str,
        *,
        key: str,
        message: str,
        since: datetime | None,
        when: datetime,
    ) -> OutboxRow:
        owner = commitment.owner
        script = wording.render_customer_message(
            commitment, kind, message=message, channel=Channel.PHONE, since=since, now=self.now
        )
        escalate_at = call_task_escalation_time(when, commitment.update_interval, self.hours_for(commitment))
        content = wording.render_call_task(
            commitment, kind, script=script.text, recipient=owner, escalate_at=escalate_at, now=self.now
        )
        row = OutboxRow(
            commitment_id=commitment.pk,
            kind=MessageKind.CALL_TASK,
            customer_kind=kind,
            channel=Channel.EMAIL,
            audience=Audience.STAFF,
            recipient=owner.email,
            recipient_user_id=owner.pk,
            subject=content.subject,
            body=content.text,
            layout=content.layout,
            # Without an email address the owner still finds the task in the app.
            status=DeliveryStatus.PENDING if owner.email else DeliveryStatus.SUPPRESSED,
            scheduled_for=when,
            next_attempt_at=when,
            escalate_at=escalate_at,
            idempotency_key=f"{key}:call_task",
            created_at=self.now,
        )
        self.messages.append(row)
        return row

    # --- Writing ----------------------------------------------------------------------------

    def save(self) -> list[int]:
        """Insert everything (a key already there is skipped) and enqueue what is due, after commit.

        Returns the ids of the pending rows due now.
        """
        rows, events = self.messages, self.events
        self.messages, self.events = [], []
        if self.bulk and connection.vendor == "postgresql":
            due_now = _copy_in(rows, events, now=self.now)
        else:
            due_now = _insert(rows, events, now=self.now)
        if due_now:
            transaction.on_commit(lambda: queueing.enqueue_delivery(due_now))
        return due_now


def _insert(rows: list[OutboxRow], events: list[Event], *, now: datetime) -> list[int]:
    """Through the ORM: for a service's few messages, and for SQLite.

    One ``INSERT ... ON CONFLICT DO NOTHING RETURNING``: the rows written name their own ids, so
    logging a promise does not read its acknowledgement back. Only a key already in the outbox
    (written before, so returned by nothing) is looked up, to hand on whatever of it is still due.
    """
    due_keys = {
        row.idempotency_key for row in rows if row.status == DeliveryStatus.PENDING and row.next_attempt_at <= now
    }
    due_now: list[int] = []
    if rows:
        written = _insert_new(rows)
        due_now = [pk for pk, key in written.items() if key in due_keys]
        due_keys -= set(written.values())
    if events:
        record_events(TimelineEvent(**event._asdict()) for event in events)
    if due_keys:
        due_now += Notification.objects.filter(
            idempotency_key__in=due_keys, status=DeliveryStatus.PENDING, sent_at__isnull=True
        ).values_list("pk", flat=True)
    return sorted(due_now)


# A service's messages (a handful) go in with a statement kept for their number (followthrough.kept_statements).
KEPT_INSERT_ROWS = 8


def _insert_new(rows: list[OutboxRow]) -> dict[int, str]:
    """Insert the rows whose key is not in the outbox yet; the id and key of each row written."""
    objs = [Notification(**row._asdict()) for row in rows]
    if len(objs) <= KEPT_INSERT_ROWS and writes_directly(Notification):
        return dict(insert_new(objs, returning="idempotency_key"))
    meta = Notification._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key and not field.generated]
    returning = [meta.pk, meta.get_field("idempotency_key")]
    # In batches as bulk_create makes them (SQLite caps a statement's parameters), and for each one
    # QuerySet._insert, what bulk_create calls: bulk_create(ignore_conflicts=True) cannot say which
    # rows it wrote, _insert can, with RETURNING, on PostgreSQL and SQLite alike.
    size = max(connection.ops.bulk_batch_size(fields, objs), 1)
    written: dict[int, str] = {}
    for start in range(0, len(objs), size):
        returned = Notification.objects._insert(  # type: ignore[attr-defined]
            objs[start : start + size], fields=fields, on_conflict=OnConflict.IGNORE, returning_fields=returning
        )
        written.update(row for row in returned if row is not None)
    return written


def _copy_in(rows: list[OutboxRow], events: list[Event], *, now: datetime) -> list[int]:
    """Through ``COPY`` (PostgreSQL): the rows straight into the outbox, then the events.

    ``COPY`` has no ``ON CONFLICT``: should a key already be in the outbox (a cycle handled twice,
    which the sweeps' claiming prevents), the copy is undone to its savepoint and the batch goes
    in through the conflict-tolerant insert instead, which skips the messages made before.
    """
    # Every name in these statements is the models' own; the values travel as COPY data.
    outbox, timeline = Notification._meta.db_table, TimelineEvent._meta.db_table
    unique: dict[str, OutboxRow] = {}
    for row in rows:
        unique.setdefault(row.idempotency_key, row)
    due_now: list[int] = []
    with connection.cursor() as cursor:
        if unique:
            # Ids drawn first, so that the rows due now can be enqueued by id.
            cursor.execute(
                "SELECT ARRAY(SELECT nextval((SELECT pg_get_serial_sequence(%s, 'id'))::regclass) "
                "FROM generate_series(1, %s))",
                [outbox, len(unique)],
            )
            [ids] = cursor.fetchone()
            numbered = list(zip(ids, unique.values(), strict=True))
            try:
                with transaction.atomic():
                    _copy_from(
                        cursor, f"COPY {outbox} ({', '.join(OUTBOX_COLUMNS)}) FROM STDIN", _outbox_lines(numbered)
                    )
            except IntegrityError:
                logger.info("Some of %s messages were already in the outbox; writing the others", len(unique))
                return _insert(rows, events, now=now)
            due_now = [
                pk for pk, row in numbered if row.status == DeliveryStatus.PENDING and row.next_attempt_at <= now
            ]
        if events:
            _copy_from(cursor, f"COPY {timeline} ({', '.join(TIMELINE_COLUMNS)}) FROM STDIN", _timeline_lines(events))
    return due_now


def _copy_from(cursor: CursorWrapper, sql: str, data: str) -> None:
    """``COPY ... FROM STDIN`` of ``data``, seen by Django's execute wrappers and query log like any statement."""

    def copy(sql: str, params: object, many: bool, context: object) -> None:
        connection.validate_no_broken_transaction()
        with connection.wrap_database_errors:
            raw = cursor.cursor
            if hasattr(raw, "copy_expert"):  # psycopg2
                raw.copy_expert(sql, io.StringIO(data))
            else:  # psycopg 3
                with raw.copy(sql) as stream:
                    stream.write(data)

    run: Any = copy
    for wrapper in reversed(connection.execute_wrappers):
        run = functools.partial(wrapper, run)
    started = time.monotonic()
    run(sql, None, False, {"connection": connection, "cursor": cursor})
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})


# COPY's text format: a tab between values, \N for null, and backslash escapes in text. Written
# out column by column for the two kinds of row (a generic loop over values costs twice as much),
# each of a batch's few distinct moments written once.

OUTBOX_COLUMNS = (
    "id",
    *OutboxRow._fields,
    # Every new row starts with these, and the model gives them no database default.
    "html_body",
    "attempts",
    "last_error",
)
TIMELINE_COLUMNS = Event._fields


def _outbox_lines(numbered: list[tuple[int, OutboxRow]]) -> str:
    """Outbox rows with their ids, in the order of OUTBOX_COLUMNS."""
    at = _moments()
    return "".join(
        f"{pk}\t{row.commitment_id}\t{row.kind}\t{row.customer_kind}\t{row.channel}\t{row.audience}\t"
        f"{_text(row.recipient)}\t{_number(row.recipient_user_id)}\t{_text(row.subject)}\t{_text(row.body)}\t"
        f"{_text(json.dumps(row.layout))}\t{row.status}\t{at(row.scheduled_for)}\t{at(row.next_attempt_at)}\t"
        f"{at(row.escalate_at)}\t{_text(row.idempotency_key)}\t{at(row.created_at)}\t\t0\t\n"
        for pk, row in numbered
    )


def _timeline_lines(events: list[Event]) -> str:
    """Timeline events, in the order of TIMELINE_COLUMNS."""
    at = _moments()
    return "".join(
        f"{event.commitment_id}\t{event.kind}\t{_number(event.actor_id)}\t{_text(event.actor_label)}\t"
        f"{_text(event.message)}\t{_text(json.dumps(event.data))}\t{at(event.created_at)}\n"
        for event in events
    )


def _moments() -> Callable[[datetime | None], str]:
    written: dict[datetime, str] = {}

    def at(moment: datetime | None) -> str:
        if moment is None:
            return "\\N"
        text = written.get(moment)
        if text is None:
            text = written[moment] = moment.isoformat()
        return text

    return at


def _number(value: int | None) -> str:
    return "\\N" if value is None else str(value)


def _text(text: str) -> str:
    if text.isprintable() and "\\" not in text:  # No line break, tab or backslash: as it is.
        return text
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def notify_customer(
    commitment: Commitment,
    kind: str,
    *,
    key: str,
    message: str = "",
    scheduled_for: datetime | None = None,
    automatic: bool = False,
    since: datetime | None = None,
) -> list[Notification]:
    """Queue one message to the customer on their preferred channel (nothing when ``key`` exists)."""
    if Notification.objects.filter(idempotency_key__in=[key, f"{key}:call_task"]).exists():
        return []
    outgoing = Outgoing()
    row = outgoing.to_customer(
        commitment, kind, key=key, message=message, scheduled_for=scheduled_for, automatic=automatic, since=since
    )
    outgoing.save()
    return list(Notification.objects.filter(idempotency_key=row.idempotency_key))


def notify_staff(
    commitment: Commitment,
    kind: str,
    *,
    recipients: Iterable[User],
    key: str,
    message: str = "",
    scheduled_for: datetime | None = None,
    details: Mapping[str, Any] | None = None,
) -> list[Notification]:
    """Queue one email per member of staff; each key gets the recipient's id appended."""
    outgoing = Outgoing()
    rows = outgoing.to_staff(
        commitment, kind, recipients=recipients, key=key, message=message, scheduled_for=scheduled_for, details=details
    )
    outgoing.save()
    return list(Notification.objects.filter(idempotency_key__in=[row.idempotency_key for row in rows]))


def suppress_unsent(commitment: Commitment) -> int:
    """Nothing still waiting in the outbox for this commitment goes out, and no call task escalates."""
    Notification.objects.filter(commitment=commitment, escalate_at__isnull=False).update(escalate_at=None)
    return Notification.objects.filter(commitment=commitment, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SUPPRESSED, leased_until=None
    )
