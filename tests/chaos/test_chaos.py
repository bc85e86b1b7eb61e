"""Proof under faults: nothing lost, nothing doubled outside the one named window.

Each case breaks something real (a process, a server, the network) while the app runs as in
production, then counts, message by message, what the SMTP server and the SMS endpoint received
against the outbox: expected, delivered, duplicated, lost. The one window where a repeat cannot
be avoided is a message the provider accepted whose acceptance the worker could not record (it
was killed, the connection dropped before the answer, the database went away): such a repeat is
counted, and carries the same Message-ID or idempotency key as the first copy.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from tests.chaos.rig import SWEEP_SECONDS, Figures, Rig, every

pytestmark = [pytest.mark.chaos, pytest.mark.live]

CANCEL = {"reason": "The chaos case is over"}


def assert_nothing_lost(figures: Figures, *, duplicates_at_most: int = 0) -> None:
    assert figures.lost == 0, figures
    assert figures.stray == 0, figures  # Nothing arrived that the outbox does not hold.
    assert figures.duplicated <= duplicates_at_most, figures


def attempts_of(rig: Rig, rows: list[int]) -> list[int]:
    if not rows:
        return []
    return [row[0] for row in rig.sql("SELECT attempts FROM notifications_notification WHERE id = ANY(%s)", [rows])]


def log_more(case: Rig, count: int, *, errors: list[BaseException]) -> None:
    """Log promises from a thread, keeping any error for the test to assert on."""
    try:
        case.log_promises(count, texts=0 if case.mail.mode != "accept" else 0.5)
    except BaseException as error:
        errors.append(error)


def test_two_beats_and_parallel_sweeps_make_and_send_each_message_once(case: Rig):
    # Given two beats ticking every second for the whole run, and promises that fall due, are
    # missed and call for status updates every 10 s while the case runs
    base, started = case.last_notification_id(), time.monotonic()
    runs_before = case.sql("SELECT coalesce(max(runs), 0) FROM notifications_sweeptick")[0][0]
    ids = case.log_promises(40, update_interval="10s", due_in=timedelta(seconds=6))

    # When, on top of the beats, bursts of ten sweeps at once run in parallel on both workers
    bursts = "import time\nfrom notifications.tasks import sweep\nfor _ in range(3):\n"
    bursts += "    [sweep.delay() for _ in range(10)]\n    time.sleep(3)"
    assert case.run_script(bursts).returncode == 0
    time.sleep(6)
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda pk: case.api("POST", f"/api/v1/commitments/{pk}/cancel/", json=CANCEL), ids))
    assert {answer.status_code for answer in answers} == {200}
    case.settle(base)

    # Then every message the sweeps made went out exactly once
    runs = case.sql("SELECT coalesce(max(runs), 0) FROM notifications_sweeptick")[0][0] - runs_before
    by_kind = dict(
        case.sql("SELECT kind, count(*) FROM notifications_notification WHERE id > %s GROUP BY kind", [base])
    )
    figures = case.figures(
        "two beats + 30 extra sweeps in parallel",
        base,
        started=started,
        note=f"{runs} sweeps recorded; made: "
        + ", ".join(f"{count} {kind}" for kind, count in sorted(by_kind.items())),
    )
    assert_nothing_lost(figures)
    assert by_kind.get("status_update", 0) > 0 and by_kind.get("apology", 0) > 0


def test_a_worker_killed_before_and_after_the_provider_accepted(case: Rig):
    # Given a mail server and an SMS endpoint that hang on a message, once before saying yes
    # (nothing accepted) and once after accepting it (the answer held back)
    base, started = case.last_notification_id(), time.monotonic()
    for receiver in (case.mail, case.sms):
        receiver.stall_seconds = 30
        receiver.stall_next = receiver.hold_answer_next = 1
    case.log_promises(4)

    def all_in_flight() -> bool:
        return not any(
            (case.mail.stall_next, case.mail.hold_answer_next, case.sms.stall_next, case.sms.hold_answer_next)
        )

    deadline = time.monotonic() + 4  # Well inside the lease: the worker is still waiting on each.
    while not all_in_flight() and time.monotonic() < deadline:
        time.sleep(0.05)

    # When both workers are SIGKILLed in the middle of those sends, and started again
    answers_held = (1 - case.mail.hold_answer_next) + (1 - case.sms.hold_answer_next)
    for name in case.workers():
        case.kill_worker(name)
    # What the receivers hold and the outbox does not say sent: the held answers, and any sent rows
    # of the same batches not yet recorded (sent rows are recorded a few at a time)
    accepted_unrecorded = case.accepted_not_recorded(base)
    assert accepted_unrecorded >= answers_held
    case.reset_receivers_faults()
    for name in ("worker1", "worker2"):
        case.start_worker(name, wait=False)
    case.log_promises(26)
    case.settle(base)

    # Then nothing is lost, and a repeat only of what was accepted but not recorded, same key
    figures = case.figures(
        "worker SIGKILLed before/after provider accepted",
        base,
        started=started,
        window=f"accepted, not recorded: {accepted_unrecorded}",
    )
    assert_nothing_lost(figures, duplicates_at_most=accepted_unrecorded)
    assert all(attempts >= 2 for attempts in attempts_of(case, figures.duplicate_rows))


def test_a_worker_killed_every_few_seconds(case: Rig):
    # Given sends that take a moment, and promises logged all along
    base, started = case.last_notification_id(), time.monotonic()
    case.mail.delay = case.sms.delay = 0.05
    stop, kills = threading.Event(), list[str]()
    unrecorded_at_kills: list[int] = []

    def kill_one() -> None:
        name = ("worker1", "worker2")[len(kills) % 2]
        if name in case.processes:
            case.kill_worker(name)
            kills.append(name)
            # Sent but not yet recorded as the worker died (the other worker's in-flight rows too)
            unrecorded_at_kills.append(case.accepted_not_recorded(base))
            case.start_worker(name, wait=False)

    # When a worker is SIGKILLed every 3 seconds (and started again) for 20 seconds
    killer = every(3, kill_one, stop)
    try:
        for _ in range(4):
            case.log_promises(20)
            time.sleep(2)
        time.sleep(max(0, 20 - (time.monotonic() - started)))
    finally:
        stop.set()
        killer.join()
    case.mail.delay = case.sms.delay = 0
    for name in ("worker1", "worker2"):
        case.wait_ready(name, "ready.")
    case.settle(base)

    # Then every message ends sent or failed, tried a bounded number of times, none lost
    figures = case.figures(
        f"a worker SIGKILLed every 3 s ({len(kills)} kills)",
        base,
        started=started,
        window=f"killed mid-send, accepted not recorded: at most {sum(unrecorded_at_kills)}",
    )
    assert_nothing_lost(figures, duplicates_at_most=sum(unrecorded_at_kills))
    assert all(attempts >= 2 for attempts in attempts_of(case, figures.duplicate_rows))
    assert figures.max_attempts <= len(kills) + 3


def test_smtp_busy_then_refusing_some_recipients_and_the_operator_sees_it_stuck(case: Rig):
    # Given a mail server answering 421 (busy), later 451 (try later)
    base, started = case.last_notification_id(), time.monotonic()
    case.mail.mode = "busy"
    case.log_promises(1, texts=0)
    due_since = time.monotonic()  # The acknowledgement is due from the moment it is logged.
    refused = {case.customers[0]["email"]}
    errors: list[BaseException] = []
    more = threading.Thread(target=lambda: log_more(case, 29, errors=errors))
    more.start()

    # When an operator watches /readyz, then it says mail is stuck within one sweep of it sticking
    stuck_after = None
    while time.monotonic() - due_since < 10:
        if case.readyz()["checks"]["delivery"]["ok"] is False:
            stuck_after = time.monotonic() - due_since
            break
        time.sleep(0.1)
    more.join()
    assert not errors, errors
    refused.update(customer["email"] for customer in case.customers[:4])
    assert stuck_after is not None
    assert "followthrough_delivery_stuck 1.0" in case.metrics()
    case.mail.mode = "tempfail"
    time.sleep(4)

    # When it comes back, refusing five recipients for good (550)
    case.mail.reject_recipients = refused
    case.mail.mode = "accept"
    case.settle(base)

    # Then the others got theirs once, the five failed with the reason and their owner was told
    figures = case.figures(
        "SMTP 421 then 451 for 8 s, then 550 for 5 recipients",
        base,
        started=started,
        note=f"/readyz said mail was stuck {stuck_after:.1f} s after it stuck (sweep interval {SWEEP_SECONDS} s); "
        "/metrics followthrough_delivery_stuck 1",
    )
    assert_nothing_lost(figures)
    assert figures.failed == 5
    reasons = case.sql("SELECT last_error FROM notifications_notification WHERE id > %s AND status = 'failed'", [base])
    assert all("550" in reason for (reason,) in reasons)
    alerts = case.sql("SELECT count(*) FROM notifications_notification WHERE id > %s AND kind = 'alert'", [base])
    assert alerts[0][0] == 5
    assert stuck_after <= SWEEP_SECONDS + 1.5
    assert case.readyz()["checks"]["delivery"]["ok"] is True


def test_the_connection_dropped_before_the_final_reply(case: Rig):
    # Given a mail server that takes three messages and drops the connection before saying so
    base, started = case.last_notification_id(), time.monotonic()
    case.mail.drop_next = 3
    case.log_promises(20, texts=0)
    case.settle(base)

    # Then each of the three is sent again (the sender cannot know), with the same Message-ID
    figures = case.figures(
        "connection dropped before the final reply", base, started=started, window="accepted, no reply: 3"
    )
    assert_nothing_lost(figures, duplicates_at_most=3)
    assert figures.duplicated == 3
    assert attempts_of(case, figures.duplicate_rows) == [2, 2, 2]


def test_a_send_slower_than_the_lease(case: Rig):
    # Given a mail server and an SMS endpoint that hang far longer than the lease on some messages
    base, started = case.last_notification_id(), time.monotonic()
    for receiver in (case.mail, case.sms):
        receiver.stall_seconds = 15
        receiver.stall_next = 3
    case.log_promises(20)
    case.settle(base)

    # Then each hung send was given up inside its lease and tried again: once each, none twice
    figures = case.figures("a send slower than the lease", base, started=started)
    assert_nothing_lost(figures)
    assert figures.max_attempts >= 2


def test_redis_killed_with_work_queued(case: Rig):
    # Given the workers are down and promises are logged: their delivery tasks wait in Redis
    base, started = case.last_notification_id(), time.monotonic()
    for name in case.workers():
        case.stop_process(name)
    case.log_promises(40)
    queued = case.redis.queued()

    # When Redis is killed (it keeps nothing on disk) and comes back empty, and the workers start
    case.redis.kill()
    case.redis.start()
    for name in ("worker1", "worker2"):
        case.start_worker(name, wait=False)
    case.settle(base)

    # Then everything due still went out, found by beat's sweeps in the database
    figures = case.figures(
        "Redis killed with work queued", base, started=started, note=f"{queued} queued tasks lost with Redis"
    )
    assert queued > 0
    assert_nothing_lost(figures)


def test_postgresql_restarted_mid_run(case: Rig):
    # Given promises being logged and delivered
    base, started = case.last_notification_id(), time.monotonic()
    errors: list[BaseException] = []
    logging = threading.Thread(target=lambda: log_more(case, 40, errors=errors))
    logging.start()
    time.sleep(1.5)

    # When PostgreSQL stops at once (as in a crash) and starts again, mid-run
    case.postgres.restart()
    # Sent while the database was away and not recorded (a batch records its sent rows a few at a
    # time, so up to a batch's worth per sender): only these may go out twice
    unrecorded = case.accepted_not_recorded(base)
    logging.join()
    assert not errors, errors
    case.log_promises(20)  # The web process recovered on its own.
    case.settle(base)

    # Then nothing is lost; a repeat only where a send went out just as the database went away
    figures = case.figures(
        "PostgreSQL restarted mid-run",
        base,
        started=started,
        window=f"sent, database gone before recorded: {unrecorded}",
    )
    assert_nothing_lost(figures, duplicates_at_most=unrecorded)
    assert all(attempts >= 2 for attempts in attempts_of(case, figures.duplicate_rows))
    assert all(case.processes[name].poll() is None for name in ("web", "worker1", "worker2", "beat1", "beat2"))


def test_a_rolled_back_transaction_sends_nothing_and_a_process_killed_after_commit_still_sends(case: Rig):
    base, started = case.last_notification_id(), time.monotonic()
    script = """
import os, signal
from django.db import transaction
from accounts.models import User
from tests.factories import customer_details, make_commitment
alex = User.objects.get(username="alex")
try:
    with transaction.atomic():
        make_commitment(actor=alex, customer=customer_details(name="Rolled Back", email="rolled.back@example.com"))
        raise RuntimeError("the request failed after the write")
except RuntimeError:
    pass
with transaction.atomic():
    # Runs first of the commit hooks: the process dies before it enqueues the delivery task.
    transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
    make_commitment(actor=alex, customer=customer_details(name="Killed", email="killed.after.commit@example.com"))
"""
    result = case.run_script(script)
    assert result.returncode == -9, result.stderr
    case.settle(base)

    figures = case.figures("rolled back / killed right after commit", base, started=started)
    assert_nothing_lost(figures)
    assert case.mail.to("rolled.back@example.com") == []
    assert len(case.mail.to("killed.after.commit@example.com")) == 1
    assert figures.expected == 1
