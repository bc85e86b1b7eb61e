"""What keeps delivery near the mail server's own speed: connections kept, backlogs shared out."""

import base64
import json

import pytest
import redis
from django.conf import settings

from notifications import delivery, tasks
from notifications.models import DeliveryStatus, MessageKind, Notification
from tests.factories import customer_details, make_commitment


def sessions_seen_by(mail_server) -> list[tuple[str, int]]:
    """The client address (host, port) of every message the server accepts: one port per connection."""
    peers: list[tuple[str, int]] = []
    accept = mail_server.handle_DATA

    async def handle_DATA(server, session, envelope):
        peers.append(session.peer)
        return await accept(server, session, envelope)

    mail_server.handle_DATA = handle_DATA
    return peers


def acknowledgements(count: int, agent) -> list[Notification]:
    commitments = [
        make_commitment(actor=agent, customer=customer_details(name=f"C{n}", email=f"c{n}@example.com", phone=""))
        for n in range(count)
    ]
    return [Notification.objects.get(commitment=c, kind=MessageKind.ACKNOWLEDGEMENT) for c in commitments]


def queued_tasks() -> list[str]:
    queue: redis.Redis = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    found = [json.loads(raw)["headers"]["task"] for raw in queue.lrange("celery", 0, -1)]  # type: ignore[union-attr]
    queue.delete("celery")
    return found


def test_messages_sent_by_separate_tasks_share_one_mail_connection(mail_server, agent):
    # Given three acknowledgements, each delivered by its own task as a create queues it
    peers = sessions_seen_by(mail_server)
    rows = acknowledgements(3, agent)

    # When the three tasks run one after another in this worker
    for row in rows:
        tasks.deliver_notifications.apply(args=([row.pk],))

    # Then all three arrived, over one SMTP session
    assert len(mail_server.messages) == 3
    assert len(set(peers)) == 1
    assert {row.status for row in Notification.objects.filter(pk__in=[r.pk for r in rows])} == {DeliveryStatus.SENT}


def test_a_kept_connection_the_server_dropped_is_replaced_and_the_message_goes_at_once(mail_server, agent):
    # Given a message sent, its connection kept, and then the mail server restarted (dropping it)
    peers = sessions_seen_by(mail_server)
    first, second = acknowledgements(2, agent)
    delivery.deliver([first.pk])
    mail_server.stop()
    mail_server.start()
    peers = sessions_seen_by(mail_server)

    # When the next message goes out
    report = delivery.deliver([second.pk])

    # Then it is sent on its first attempt, over a new connection, and nothing waits for a retry
    second.refresh_from_db()
    assert (report.sent, report.retrying, second.status, second.attempts) == (1, 0, DeliveryStatus.SENT, 1)
    assert len(peers) == 1
    assert [message["Message-ID"] for message in mail_server.messages][-1] == second.message_id


def test_a_backlog_asks_for_a_second_worker_before_it_sends_anything(mail_server, agent, monkeypatch):
    # Given more acknowledgements waiting than one claim takes
    monkeypatch.setattr(delivery, "BATCH_SIZE", 2)
    rows = acknowledgements(5, agent)
    queued_tasks()

    # When a worker starts on the backlog (limit: more than all of it)
    tasks.deliver_backlog.apply()

    # Then it sent what it could, and had already asked for a helper: another worker joins in at once
    assert len(mail_server.messages) == len(rows)
    assert queued_tasks() == ["notifications.tasks.deliver_backlog"]


def test_no_helper_is_asked_for_when_one_claim_takes_everything(mail_server, agent, monkeypatch):
    monkeypatch.setattr(delivery, "BATCH_SIZE", 2)
    acknowledgements(2, agent)
    queued_tasks()

    tasks.deliver_backlog.apply()

    assert len(mail_server.messages) == 2
    assert queued_tasks() == []


def test_the_helper_is_a_real_task_any_worker_can_run(mail_server, agent, monkeypatch):
    # The queued helper is the plain deliver_backlog task, with no arguments
    monkeypatch.setattr(delivery, "BATCH_SIZE", 1)
    acknowledgements(3, agent)
    queue: redis.Redis = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    queue.delete("celery")

    tasks.deliver_backlog.apply()

    [raw] = queue.lrange("celery", 0, -1)  # type: ignore[misc]
    queue.delete("celery")
    args, kwargs, _embed = json.loads(base64.b64decode(json.loads(raw)["body"]))
    assert (args, kwargs) == ([], {})


def test_a_batch_of_sends_is_recorded_together_each_on_its_timeline(mail_server, agent, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from commitments.models import TimelineEvent
    from notifications import sent_records

    # Given five acknowledgements waiting, and a machine however busy: five sends may take longer
    # than the time a sent record may wait, which would record them in two statements
    monkeypatch.setattr(sent_records, "MAX_WAIT", 60.0)
    rows = acknowledgements(5, agent)

    # When one delivery call sends them
    with CaptureQueriesContext(connection) as queries:
        report = delivery.deliver([row.pk for row in rows])

    # Then all five are sent and each says so on its commitment's timeline
    assert report.sent == 5
    for row in rows:
        row.refresh_from_db()
        assert row.status == DeliveryStatus.SENT
        [event] = TimelineEvent.objects.filter(commitment=row.commitment_id, data__notification_id=row.pk)
        assert event.message == f"Acknowledgement by email sent to {row.recipient}."
    # And the five were recorded by one statement (marked sent, and their events written, together),
    # in one round trip: no BEGIN or COMMIT of its own, not four round trips a group nor three
    # statements and a commit per message
    statements = [q["sql"].split(None, 1)[0].upper() for q in queries.captured_queries]
    the_claim_ends = max(n for n, verb in enumerate(statements) if verb in ("COMMIT", "RELEASE"))
    assert statements[the_claim_ends + 1 :] == ["WITH"]


def test_a_message_whose_lease_ran_out_before_its_batch_was_recorded_is_not_marked_sent(mail_server, agent):
    from datetime import timedelta

    from commitments.models import TimelineEvent
    from notifications import clock

    # Given two acknowledgements claimed together, and the first one's lease already over on the
    # database's clock (the worker stalled, say), though this worker still thinks it has time
    first, second = acknowledgements(2, agent)
    batch = delivery.claim(ids=[first.pk, second.pk])
    expired = clock.database_now() - timedelta(seconds=1)
    Notification.objects.filter(pk=first.pk).update(leased_until=expired)
    claimed_first = next(row for row in batch if row.pk == first.pk)
    claimed_first.leased_until = expired

    # When the batch is sent and its sent rows recorded together
    delivery.send_claimed(batch)

    # Then both went out, but only the one whose lease still held is recorded sent: the other is
    # another worker's to send again (same Message-ID), never marked sent by a lease that ran out
    assert len(mail_server.messages) == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (DeliveryStatus.PENDING, DeliveryStatus.SENT)
    assert not TimelineEvent.objects.filter(data__notification_id=first.pk).exists()
    assert TimelineEvent.objects.filter(data__notification_id=second.pk).exists()


def test_a_kept_connection_lost_after_the_message_was_handed_over_is_not_tried_again_at_once(mail_server, agent):
    # Given a message sent and its connection kept
    first, second = acknowledgements(2, agent)
    delivery.deliver([first.pk])

    # When the next message is accepted by the server but the connection drops before the answer
    mail_server.drop_next = 1
    report = delivery.deliver([second.pk])

    # Then it is not sent again on a fresh connection (the server may have it): it waits for its
    # retry like any message whose answer was lost, and arrived once so far
    second.refresh_from_db()
    assert (report.sent, report.retrying, second.status) == (0, 1, DeliveryStatus.PENDING)
    assert [m["Message-ID"] for m in mail_server.messages].count(second.message_id) == 1


def test_each_message_reaches_the_server_byte_for_byte_as_django_writes_it(mail_server, agent):
    import re

    from notifications.channels.email import build_email

    # Given messages whose headers fold every way: plain ASCII, non-ASCII names and a long
    # non-ASCII subject (encoded words over several lines), with their HTML versions
    received: list[bytes] = []
    accept = mail_server.handle_DATA

    async def handle_DATA(server, session, envelope):
        received.append(envelope.content)
        return await accept(server, session, envelope)

    mail_server.handle_DATA = handle_DATA
    rows = acknowledgements(1, agent)
    commitment = make_commitment(
        actor=agent,
        summary="Rückruf wegen der Reparatur des Warmwasserbereiters – Kostenvoranschlag für Zoë " * 2,
        customer=customer_details(name="Zoë Ångström-Núñez", email="zoe@example.com", phone=""),
    )
    rows.append(Notification.objects.get(commitment=commitment, kind=MessageKind.ACKNOWLEDGEMENT))

    # When delivery sends them
    assert delivery.deliver([row.pk for row in rows]).sent == 2

    # Then the server received, byte for byte, what Django's own writer makes of each (but for its
    # Date and the random boundary between the text and HTML versions)
    def undated(raw: bytes) -> bytes:
        raw = re.sub(rb"={15}\d+==", b"(boundary)", raw)
        return re.sub(rb"^Date: [^\n]*\n", b"", raw, count=1, flags=re.M)

    for row, raw in zip(rows, received, strict=True):
        row.refresh_from_db()
        expected = build_email(row).message().as_bytes(linesep="\r\n")
        assert undated(raw.replace(b"\r\n", b"\n")) == undated(expected.replace(b"\r\n", b"\n"))
    assert b"=?utf-8?" in received[1]  # The second one's headers were encoded, not taken directly.


def test_the_sent_records_statement_writes_every_column_of_a_timeline_event():
    from django.db import connection

    from commitments.models import TimelineEvent
    from notifications import sent_records

    # An event's columns are written by name in the statement that records a group of sends: a
    # column added to the model must be added there too. Numbers, JSON and moments go in as the
    # column's own type (``timestamp with time zone`` is written ``timestamptz``); characters as
    # ``text``, so that the column checks a value's length as a plain INSERT does (an array cast to
    # ``varchar(20)[]`` would silently cut a longer kind short).
    def written_as(field):
        kind = str(field.db_type(connection))
        if kind.startswith("varchar") or kind == "text":
            return "text"
        return kind.replace("timestamp with time zone", "timestamptz")

    columns = [
        (field.column, written_as(field)) for field in TimelineEvent._meta.concrete_fields if not field.primary_key
    ]
    assert list(sent_records.EVENT_COLUMNS) == columns


def test_a_sent_message_is_named_on_its_timeline_as_its_kind_and_channel_display():
    from commitments.models import Channel

    # The words a sent row's timeline event starts with are the model's own display of its kind
    # and channel, for every kind and channel (and a value of neither, shown as it is)
    for kind in [*MessageKind.values, "retired_kind"]:
        for channel in [*Channel.values, "pigeon"]:
            row = Notification(kind=kind, channel=channel)
            assert delivery._what(row) == f"{row.get_kind_display()} by {row.get_channel_display().lower()}"


def test_a_message_cancelled_while_on_the_wire_is_recorded_sent_with_the_rest_of_its_group(mail_server, agent):
    from commitments.models import TimelineEvent

    # Given two acknowledgements claimed together, and the first one suppressed once claimed (its
    # promise cancelled while the batch was on its way: the lease is dropped, the row kept)
    first, second = acknowledgements(2, agent)
    batch = delivery.claim(ids=[first.pk, second.pk])
    Notification.objects.filter(pk=first.pk).update(status=DeliveryStatus.SUPPRESSED, leased_until=None)

    # When the batch is sent and its sent rows recorded together
    report = delivery.send_claimed(batch)

    # Then both went out, and both are recorded sent, each on its timeline: the first did reach
    # the customer, whatever the cancellation meant it to
    assert (report.sent, len(mail_server.messages)) == (2, 2)
    for row in (first, second):
        row.refresh_from_db()
        assert row.status == DeliveryStatus.SENT and row.leased_until is None
        [event] = TimelineEvent.objects.filter(commitment=row.commitment_id, data__notification_id=row.pk)
        assert event.data["status"] == DeliveryStatus.SENT


def test_a_group_whose_record_fails_is_left_pending_and_reads_so_rather_than_cut_short(agent):
    from django.db import DataError, transaction
    from django.utils import timezone

    from commitments.models import TimelineEvent
    from notifications import sent_records

    # Given a claimed acknowledgement, sent, whose timeline words are too long for their column
    [row] = acknowledgements(1, agent)
    [claimed] = delivery.claim(ids=[row.pk])
    assert row.commitment_id is not None
    too_long = TimelineEvent(commitment_id=row.commitment_id, kind="k" * 25, actor_label="system", data={})
    pending = sent_records.Pending(lambda notification, sent_at: too_long)
    pending.held.append((claimed, timezone.now()))

    # When the group is recorded, the database refuses the kind as a plain INSERT would, not cut short
    with pytest.raises(DataError), transaction.atomic():
        sent_records.flush(pending)

    # Then nothing was recorded: the message is still pending (its lease runs out, and it goes
    # again with the same Message-ID), and the worker's copy of it says so too
    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING and row.sent_at is None
    assert claimed.status == DeliveryStatus.PENDING and claimed.sent_at is None
    assert not TimelineEvent.objects.filter(kind__startswith="kkk").exists()
