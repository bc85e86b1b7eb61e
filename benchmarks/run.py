"""Followthrough's benchmark suite: one command, one table, written to docs/benchmarks.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/followthrough \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python benchmarks/run.py                          # a quick look: 20,000 commitments
        .venv/bin/python benchmarks/run.py --commitments 1000000    # the real one

It works in a scratch database next to DATABASE_URL's (``<name>_bench``, created and dropped here),
seeds it with COPY (``benchmarks/seed.py``, the one seeder), then measures, printing its progress:

- the sweep: due commitments a second into outbox rows, queries per 1,000 due, and a second sweep
  right after (repeated ``--repeat`` times on the same due rows, restored in between; medians);
- catch-up after beat was down for 6 hours (5% of all commitments due at once), swept by 1 and by
  2 processes at once, as one or two workers would;
- delivery: emails a second from the outbox into a local SMTP server (``benchmarks/smtp_sink.py``,
  a process for each connection, as Postfix serves them) through 1 and 2 Celery worker processes,
  in pairs of runs back to back (a backlog, and one task per message as a create queues it),
  beside what a plain client reusing one connection gets from the same server; the workers' peak
  and final memory;
- pages and API through gunicorn under ``--clients`` concurrent clients, served as the Procfile
  serves them (sync workers, one request at a time each; ``--web 4`` of them by default, or
  ``--web 2x2`` for 2 processes of 2 threads): p50 and p95, and the queries each one costs
  (counted in-process);
- the plan (EXPLAIN ANALYZE, BUFFERS) of every sweep and list query: which indexes, any
  sequential scan, heap fetches of index-only scans.

Seeding a million takes a while: ``--seed-only`` seeds and keeps the scratch database, ``--reuse``
measures a kept one again (same size) without seeding, ``--only sweep,plans`` measures some
sections, and ``--profile FILE`` runs the first sweep under cProfile (the costliest functions go to
stderr); the sweep's progress lines say where its time went, statement by statement.

Not a test: timings depend on the machine and whatever else runs on it (the table says how busy
it was). The Celery broker must be a Redis the suite may use: its queue is purged first.
"""

import argparse
import json
import os
import platform
import re
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.scratch import database_urls, recreate_database  # noqa: E402

STARTED = time.monotonic()
STARTED_AT = time.time()
REPORT: list[tuple[str, str, str, str, str]] = []  # (what, figure, target, verdict, load average then)
PLANS: list[tuple[str, str, str]] = []  # (query, summary, plan text)
NOTES: list[str] = []


def progress(message: str) -> None:
    elapsed = int(time.monotonic() - STARTED)
    print(f"[{elapsed // 60:02d}:{elapsed % 60:02d}] {message}", file=sys.stderr, flush=True)


def row(what: str, figure: str, target: str = "", met: bool | None = None) -> None:
    verdict = "" if met is None else ("met" if met else "**not met**")
    REPORT.append((what, figure, target, verdict, f"{os.getloadavg()[0]:.1f}"))
    progress(f"  {what}: {figure}" + (f" (target {target}: {verdict.strip('*')})" if target else ""))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commitments", type=int, default=20_000, help="how many to seed (default 20,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each sweep measurement (medians)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients")
    parser.add_argument("--requests", type=int, default=40, help="requests per page per client")
    parser.add_argument("--emails", type=int, default=0, help="emails per delivery run (default: scaled to size)")
    parser.add_argument(
        "--output",
        default=None,
        help="where the table goes (default docs/benchmarks.md, but nowhere with --only); '' to write nothing",
    )
    parser.add_argument("--keep", action="store_true", help="leave the scratch database")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the scratch database and, when it already holds this many seeded commitments, measure them "
        "again without seeding (implies --keep)",
    )
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to measure (default all: {','.join(SECTIONS)})",
    )
    parser.add_argument("--seed-only", action="store_true", help="seed the scratch database, measure nothing")
    parser.add_argument("--batch-size", type=int, default=0, help="the sweep's batch size (default: the sweep's own)")
    parser.add_argument("--profile", default="", help="profile the first sweep with cProfile, stats to this file")
    parser.add_argument(
        "--web",
        default="4",
        help="gunicorn for the pages: N sync workers, the Procfile's kind (it takes N from WEB_CONCURRENCY; "
        "default 4, two a core), or PxT for P processes of T threads each",
    )
    options = parser.parse_args()
    if not re.fullmatch(r"[1-9]\d*(x[1-9]\d*)?", options.web):
        parser.error(f"--web: expected a number of workers (4) or processes x threads (2x2), not {options.web!r}")
    options.keep = options.keep or options.reuse or options.seed_only
    options.only = [name.strip() for name in options.only.split(",") if name.strip()]
    if unknown := set(options.only) - set(SECTIONS):
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    if options.output is None:  # A partial table never replaces the page's whole one by accident.
        whole = set(options.only) == set(SECTIONS)
        options.output = str(ROOT / "docs" / "benchmarks.md") if whole else ""

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/followthrough")
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
        sys.exit("Set CELERY_BROKER_URL to a Redis database the benchmark may use, e.g. redis://127.0.0.1:6379/0")
    bench_url, name, maintenance_url = database_urls(url)
    reused = options.reuse and seeded_size(bench_url) == options.commitments
    if not reused:
        recreate_database(maintenance_url, name)
    web_port = free_port()
    os.environ.update(
        {
            "DATABASE_URL": bench_url,
            "DJANGO_SETTINGS_MODULE": "followthrough.settings",
            "DEBUG": "false",
            "SECRET_KEY": "benchmark-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "SITE_URL": f"http://127.0.0.1:{web_port}",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_HSTS_SECONDS": "0",
            # Four clients hammering one account each would hit the API's per-user limits: those are
            # a policy, measured elsewhere, not the speed this measures.
            "THROTTLE_USER": "1000000/min",
            "THROTTLE_TOKEN": "1000000/min",
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("EMAIL_URL", None)
    import django

    django.setup()
    machine = describe_machine()
    command = "benchmarks/run.py " + " ".join(sys.argv[1:])
    try:
        run(options, web_port, reused=reused)
    finally:
        from django.db import connections

        connections.close_all()
        if not options.keep:
            recreate_database(maintenance_url, name, drop_only=True)
    machine["load average at the end"] = " ".join(f"{value:.2f}" for value in os.getloadavg())
    if options.seed_only:
        return
    text = render(options, machine, command)
    print(text)
    if options.output:
        Path(options.output).write_text(text + kept_sections(Path(options.output)))
        progress(f"written to {options.output}")


SECTIONS = ("sweep", "catch-up", "plans", "delivery", "pages")


def seeded_size(url: str) -> int | None:
    """How many commitments the scratch database at ``url`` was seeded with (None: not seeded, or none there)."""
    import psycopg2

    try:
        connection = psycopg2.connect(url)
    except psycopg2.OperationalError:
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('bench_seed') IS NOT NULL")
            if not cursor.fetchone()[0]:
                return None
            cursor.execute("SELECT commitments FROM bench_seed")
            found = cursor.fetchone()
            return int(found[0]) if found else None
    finally:
        connection.close()


def run(options: argparse.Namespace, web_port: int, *, reused: bool = False) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from benchmarks import seed

    progress("migrating the scratch database")
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # pages need the manifest with DEBUG off
    warm_up()
    if reused:
        # The seed's own moment: "now" for every measurement, so the same 1% is due as when it was seeded.
        with connection.cursor() as cursor:
            cursor.execute("SELECT seeded_at, seconds FROM bench_seed")
            now, seconds = cursor.fetchone()
        people = seed.people_of()
        progress(f"reusing the {options.commitments:,} commitments seeded at {now.isoformat()}")
    else:
        now = timezone.now()
        began = time.monotonic()
        people = seed.seed(options.commitments, now, progress)
        seconds = time.monotonic() - began
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE bench_seed (commitments integer, seeded_at timestamptz, seconds float)")
            cursor.execute("INSERT INTO bench_seed VALUES (%s, %s, %s)", [options.commitments, now, seconds])
    row(
        "seeded (COPY, with timelines and outbox history)",
        f"{options.commitments:,} commitments in {seconds:.0f} s",
    )
    if options.seed_only:
        return

    if "sweep" in options.only:
        measure_sweep(options, now)
    if "catch-up" in options.only:
        measure_catch_up(options, now)
    if "plans" in options.only:
        measure_plans(now, people)
    if "delivery" in options.only:
        measure_delivery(options)
    if "pages" in options.only:
        measure_pages(options, web_port, people)


def warm_up() -> None:
    """What a running worker loaded long ago (URL conf, templates, the broker's client): not the sweep's cost."""
    import importlib

    from django.template.loader import get_template
    from django.urls import reverse

    # The first enqueue after a commit imports the delivery task and the broker's transport (half a
    # second): a worker did that when it started.
    importlib.import_module("notifications.tasks")
    importlib.import_module("kombu.transport.redis")
    reverse("customer:status", args=["warm-up"])
    for folder in sorted((ROOT / "templates" / "notifications").iterdir()):
        for template in sorted(folder.glob("*.*")):
            get_template(f"notifications/{folder.name}/{template.name}")


# --- Sweeps -----------------------------------------------------------------------------------


class Snapshot:
    """The commitments due at ``now`` as they were, and the outbox and timeline high-water marks.

    Restoring puts them back, so the same sweep can be measured again on the same work.
    """

    taken = 0

    def __init__(self, where: str) -> None:
        from django.db import connection

        Snapshot.taken += 1
        self.table = f"bench_snapshot_{Snapshot.taken}"
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")  # left by an earlier run of a reused database
            cursor.execute(f"CREATE TABLE {self.table} AS SELECT * FROM commitments_commitment WHERE {where}")
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM notifications_notification")
            self.notifications = cursor.fetchone()[0]
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM commitments_timelineevent")
            self.events = cursor.fetchone()[0]
            cursor.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'commitments_commitment' AND column_name <> 'id'"
            )
            self.columns = [name for (name,) in cursor.fetchall()]

    def restore(self) -> None:
        from django.db import connection

        columns = ", ".join(f'"{name}"' for name in self.columns)
        taken = ", ".join(f's."{name}"' for name in self.columns)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM notifications_notification WHERE id > %s", [self.notifications])
            cursor.execute("DELETE FROM commitments_timelineevent WHERE id > %s", [self.events])
            cursor.execute(
                f"UPDATE commitments_commitment c SET ({columns}) = ({taken}) FROM {self.table} s WHERE c.id = s.id"
            )
            cursor.execute(
                "VACUUM ANALYZE commitments_commitment, notifications_notification, commitments_timelineevent"
            )


DUE_AT_NOW = (
    "(status IN ('open','waiting','reopened','missed')"
    " AND (next_update_at <= %(now)s OR next_escalation_at <= %(now)s))"
    " OR (status IN ('open','reopened') AND due_at <= %(now)s)"
    " OR (status = 'fulfilled' AND satisfaction_due_at <= %(now)s)"
)


def due_clause(now: datetime) -> str:
    stamp = f"'{now.isoformat()}'::timestamptz"
    return DUE_AT_NOW.replace("%(now)s", stamp)


class SweepRun:
    """One timed sweep: how many it handled, how long it took, its statements and the time spent in each kind."""

    def __init__(self, now: datetime, *, profile: str = "") -> None:
        import cProfile

        from django.db import connection

        from notifications import sweeps

        self.statements = 0
        self.waited: dict[str, float] = {}
        self.kinds: dict[str, int] = {}

        def count(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            began = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                what = statement_kind(sql)
                self.statements += 1
                self.kinds[what] = self.kinds.get(what, 0) + 1
                self.waited[what] = self.waited.get(what, 0.0) + time.perf_counter() - began

        profiler = cProfile.Profile() if profile else None
        wal_before = written_wal()
        with connection.execute_wrapper(count):
            began = time.perf_counter()
            if profiler:
                profiler.enable()
            counts = sweeps.run_sweeps(now)
            if profiler:
                profiler.disable()
            self.seconds = time.perf_counter() - began
        (wal_after, pages_after), (wal_then, pages_then) = written_wal(), wal_before
        self.wal_bytes, self.full_pages = wal_after - wal_then, pages_after - pages_then
        self.handled = sum(counts.values())
        self.counts = counts
        if profiler:
            import pstats

            profiler.dump_stats(profile)
            pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(30)
            pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(50)

    def where(self) -> str:
        """The database's share, statement kind by kind, and the rest (Python: loading, rendering, building)."""
        spent = sorted(self.waited.items(), key=lambda item: -item[1])
        database = sum(self.waited.values())
        parts = [f"{seconds:.2f} s in {self.kinds[what]} x {what}" for what, seconds in spent if seconds >= 0.01]
        return (
            f"{self.seconds:.2f} s: {database:.2f} s waiting on the database ({'; '.join(parts)}), "
            f"{self.seconds - database:.2f} s in Python; {self.wal_bytes / 1e6:,.0f} MB of WAL, "
            f"{self.full_pages:,} whole-page images"
        )


def written_wal() -> tuple[int, int]:
    """The bytes of WAL the server has written, and how many of its records carry a whole page.

    The first change to a page after a checkpoint writes the whole 8 kB page (full_page_writes):
    a sweep that follows a checkpoint writes several times the WAL of one that does not, which is
    most of the spread between one run's figure and the next.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT wal_bytes, wal_fpi FROM pg_stat_wal")
        wal_bytes, full_pages = cursor.fetchone()
    return int(wal_bytes), int(full_pages)


def statement_kind(sql: str) -> str:
    """``INSERT notifications_notification``, ``UPDATE commitments_commitment``: what a statement does, where."""
    words = sql.replace("(", " ").split()
    verb = words[0].upper() if words else "?"
    after = {"INSERT": "INTO", "UPDATE": "UPDATE", "SELECT": "FROM", "WITH": "FROM", "DELETE": "FROM", "COPY": "COPY"}
    upper = [word.upper() for word in words]
    if after.get(verb) is None or after[verb] not in upper:
        return verb
    return f"{verb} {words[upper.index(after[verb]) + 1].strip(chr(34))}"


def measure_sweep(options: argparse.Namespace, now: datetime) -> None:
    from notifications import sweeps

    if options.batch_size:
        sweeps.BATCH_SIZE = options.batch_size
    progress(f"sweep: the ~1% due now, repeated on the same rows (batches of {sweeps.BATCH_SIZE:,})")
    snapshot = Snapshot(due_clause(now))
    rates, per_thousand, seconds_after, handled, again_statements = [], [], [], 0, 0
    runs: list[SweepRun] = []
    for attempt in range(options.repeat):
        first = SweepRun(now, profile=options.profile if attempt == 0 else "")
        runs.append(first)
        handled = first.handled
        rates.append(handled / first.seconds if first.seconds else 0.0)
        per_thousand.append(first.statements * 1000 / max(1, handled))
        again = SweepRun(now)
        again_statements = again.statements
        seconds_after.append(again.seconds * 1000)
        progress(f"  run {attempt + 1}: {first.counts}; {first.where()}; second sweep {again.seconds * 1000:.1f} ms")
        snapshot.restore()
    rate = statistics.median(rates)
    # Each run's own figure beside the median: a run that follows a checkpoint writes whole pages to
    # the WAL (its progress line says how many) and can take three times as long as one that does not.
    each = ", ".join(f"{run_rate:,.0f}" for run_rate in rates)
    row("sweep: due commitments a second", f"{rate:,.0f} ({handled:,} due; runs {each})", "≥ 10,000", rate >= 10_000)
    row("sweep: queries per 1,000 due", f"{statistics.median(per_thousand):.1f}", "per batch, not per row", None)
    after = statistics.median(seconds_after)
    row("sweep: a second sweep right after", f"{after:.1f} ms, {again_statements} query", "< 50 ms", after < 50)
    middle = sorted(runs, key=lambda run: run.seconds)[(len(runs) - 1) // 2]
    NOTES.append(f"Where the median sweep's time went: {middle.where()}.")


def measure_catch_up(options: argparse.Namespace, now: datetime) -> None:
    from django.db import connection, connections

    progress("catch-up: beat down 6 hours, 5% of all commitments due at once")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM commitments_commitment")
        total = cursor.fetchone()[0]
        six_hours = now - timedelta(hours=6)
        cursor.execute(
            "CREATE TEMP TABLE bench_backlog AS SELECT id FROM commitments_commitment "
            "WHERE status IN ('open','waiting','reopened','missed') AND NOT (" + due_clause(now) + ") "
            "ORDER BY md5(id::text) LIMIT %s",
            [max(0, total // 20 - self_due(now))],
        )
    snapshot = Snapshot(due_clause(now) + " OR id IN (SELECT id FROM bench_backlog)")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE commitments_commitment SET next_update_at = %s + (random() * interval '6 hours') "
            "WHERE id IN (SELECT id FROM bench_backlog)",
            [six_hours],
        )
        cursor.execute("ANALYZE commitments_commitment")
    snapshot_after = Snapshot(due_clause(now))  # the backlog as beat finds it on waking
    for workers in (1, 2):
        results = []
        for _ in range(max(1, options.repeat - 1)):
            connections.close_all()
            handled, seconds = parallel_sweeps(workers, now)
            results.append((seconds, handled))
            snapshot_after.restore()
        seconds, handled = statistics.median(spent for spent, _ in results), results[0][1]
        row(
            f"catch-up: {handled:,} due at once, swept by {workers} worker{'s' if workers > 1 else ''}",
            f"{seconds:.1f} s = {handled / seconds:,.0f} a second",
            "minutes, not hours",
            seconds < 600,
        )
    snapshot.restore()


def self_due(now: datetime) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM commitments_commitment WHERE " + due_clause(now))
        return int(cursor.fetchone()[0])


def parallel_sweeps(processes: int, now: datetime) -> tuple[int, float]:
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(processes) as pool:
        began = time.perf_counter()
        results = pool.map(_sweep_in_child, [now] * processes)
        seconds = time.perf_counter() - began
    return sum(results), seconds


def _sweep_in_child(now: datetime) -> int:
    from django.db import connection

    from notifications import sweeps

    handled = sum(sweeps.run_sweeps(now).values())
    connection.close()
    return handled


# --- Plans --------------------------------------------------------------------------------------


def captured_selects(action: Callable[[], Any]) -> list[tuple[str, Any]]:
    """The SELECTs on commitments and the outbox that ``action`` runs, with their parameters."""
    from django.db import connection

    seen: list[tuple[str, Any]] = []

    def capture(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith(("SELECT", "WITH")) and re.search(
            r'"(commitments_commitment|notifications_notification|commitments_timelineevent)"', sql
        ):
            seen.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        action()
    return seen


def explain(label: str, sql: str, params: Any) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        text = "\n".join(line for (line,) in cursor.fetchall())
        transaction.set_rollback(True)
    if isinstance(plan, str):
        plan = json.loads(plan)
    nodes: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        nodes.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    scans = []
    for node in nodes:
        kind = node["Node Type"]
        if "Scan" not in kind or kind in ("Function Scan", "Values Scan", "CTE Scan", "Subquery Scan"):
            continue
        where = node.get("Index Name") or node.get("Relation Name", "")
        fetches = f", heap fetches {node['Heap Fetches']}" if "Heap Fetches" in node else ""
        scans.append(f"{kind} {where}{fetches}")
    sequential = [s for s in scans if s.startswith("Seq Scan") and "accounts_" not in s and "django_" not in s]
    summary = "; ".join(scans) or "no table scan"
    if sequential:
        summary = "**" + summary + "**"
    summary += f" ({plan[0]['Execution Time']:.1f} ms)"
    PLANS.append((label, summary, text))


def measure_plans(now: datetime, people: dict[str, Any]) -> None:
    from django.db import transaction
    from django.test import Client

    from notifications import sweeps

    progress("plans: EXPLAIN ANALYZE of each sweep and list query")
    snapshot = Snapshot(due_clause(now))
    names = {
        "_missed_due": "sweep: missed",
        "_escalations_due": "sweep: escalations",
        "_updates_due": "sweep: status updates",
        "_satisfaction_due": "sweep: satisfaction checks",
        "_call_tasks_due": "sweep: call task escalations",
    }
    for function, label in names.items():
        queryset = getattr(sweeps, function)(now)
        # The batch claim as the sweep runs it: in the sweep's own order, locked, skipping locked rows
        claim = queryset.select_for_update(skip_locked=True, of=("self",)).values("pk")[: sweeps.BATCH_SIZE]
        with transaction.atomic():  # Django compiles FOR UPDATE only inside one
            sql, params = claim.query.sql_with_params()
        explain(label, sql, params)
    for index, (sql, params) in enumerate(captured_selects(lambda: sweeps.run_sweeps(now))[:1]):
        explain(f"sweep: which sweeps have work ({index + 1})", sql, params)
    snapshot.restore()
    agent = people["agents"][0]
    client = Client()
    client.force_login(agent)
    pages = page_list(people, commitment_id=first_commitment_of(agent))
    for page in pages:
        if page.method != "GET":
            continue
        path = page.path
        for index, (sql, params) in enumerate(captured_selects(lambda path=path: client.get(path))):  # type: ignore[misc]
            explain(f"{page.name} ({index + 1})", sql, params)


def first_commitment_of(user: Any) -> int:
    from commitments.models import Commitment

    return Commitment.objects.filter(owner=user).order_by("pk").values_list("pk", flat=True).first() or 1


# --- Delivery -----------------------------------------------------------------------------------


def sample_email() -> Any:
    """A customer's status update as the sweep writes it: the message both sides of the delivery race send.

    Written here by the product's own wording for a seeded commitment (words, then the layout its
    HTML is drawn from at send time), not picked from the outbox: what the outbox holds depends on
    what ran before (the seed's history carries no layout, a create's acknowledgement does), and
    the figures with it, by as much as 2.5 times.
    """
    from django.utils import timezone

    from commitments.models import Channel, Commitment
    from notifications import wording
    from notifications.models import Audience, MessageKind, Notification

    commitment = (
        Commitment.objects.select_related("customer", "owner", "team")
        .filter(customer__preferred_channel=Channel.EMAIL, status="open")
        .exclude(customer__email="")
        .order_by("pk")
        .first()
    )
    assert commitment is not None, "the seed holds no open commitment to a customer who reads email"
    kind = MessageKind.STATUS_UPDATE
    content = wording.render_customer_message(commitment, kind, channel=Channel.EMAIL, now=timezone.now())
    return Notification(
        commitment=commitment,
        kind=kind,
        channel=Channel.EMAIL,
        audience=Audience.CUSTOMER,
        recipient=commitment.customer.email,
        subject=content.subject,
        body=content.text,
        layout=content.layout,
        idempotency_key=f"{commitment.pk}:status_update:benchmark",
    )


def plain_client_ceiling(port: int, count: int, clients: int) -> float:
    """Emails a second the sink takes from ``clients`` plain smtplib clients, each on one connection."""
    from notifications.channels.email import build_email

    # The very message the app sends (headers, text and HTML, lines ended as on the wire), so both
    # sides carry the same bytes.
    payload = build_email(sample_email()).message().as_bytes(linesep="\r\n")
    errors: list[BaseException] = []

    def send(share: int) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", port) as smtp:
                for _ in range(share):
                    smtp.sendmail("followthrough@localhost", ["customer@example.com"], payload)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=send, args=(count // clients,)) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return (count // clients) * clients / (time.perf_counter() - began)


def add_outbox_rows(count: int, tag: str) -> list[int]:
    """``count`` pending customer emails, due now, as the sweep or a create leaves them.

    Each carries the words, HTML and layout of ``sample_email()``, the message the plain client
    sends for the ceiling, so the app and the yardstick carry the same bytes. They are about the
    newest commitments, far from the oldest ones the pages show (``first_commitment_of``): a kept
    database measured again and again would otherwise grow their timelines with every run.
    """
    from django.db import connection

    sample = sample_email()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO notifications_notification
              (commitment_id, kind, channel, audience, recipient, subject, body, html_body, layout, status,
               scheduled_for, next_attempt_at, attempts, last_error, idempotency_key, customer_kind, created_at)
            SELECT c.id, 'status_update', 'email', 'customer', 'customer' || c.customer_id || '@example.com',
                   %s, %s, %s, %s::jsonb, 'pending', now(), now(), 0, '', %s || c.id, '', now()
            FROM commitments_commitment c ORDER BY c.id DESC LIMIT %s
            RETURNING id
            """,
            [
                sample.subject,
                sample.body,
                sample.html_body,
                json.dumps(sample.layout),
                # Each run's keys are its own: a kept database (--reuse) still holds the last run's rows.
                f"bench-{tag}-{int(STARTED_AT)}:",
                count,
            ],
        )
        return [pk for (pk,) in cursor.fetchall()]


def pending(ids: list[int]) -> int:
    from django.db import connection

    # Polled every 50 ms while the workers send: read the few pending rows (the partial index of
    # pending ones), not every one of the batch's ids, so the poll takes nothing from the workers.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM notifications_notification WHERE status = 'pending' AND id BETWEEN %s AND %s",
            [min(ids), max(ids)],
        )
        return int(cursor.fetchone()[0])


class Workers:
    """Celery worker processes (one task at a time each, as ``--pool solo``), sending to ``email_url``."""

    def __init__(self, count: int, email_url: str) -> None:
        import tempfile

        env = {**os.environ, "EMAIL_URL": email_url, "LOG_LEVEL": "INFO"}
        self.logs = [
            Path(tempfile.mkstemp(prefix=f"bench-worker{number}-", suffix=".log")[1]) for number in range(count)
        ]
        self.processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "followthrough",
                    "worker",
                    "--pool",
                    "solo",
                    "--loglevel",
                    "INFO",
                    "-n",
                    f"bench{number}-{os.getpid()}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--logfile",
                    str(self.logs[number]),
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for number in range(count)
        ]
        for log in self.logs:
            for _ in range(600):
                if "ready." in log.read_text():
                    break
                time.sleep(0.1)

    def memory(self, key: str) -> list[int]:
        """VmHWM (peak) or VmRSS (now) of each worker, in MB."""
        sizes = []
        for process in self.processes:
            status = Path(f"/proc/{process.pid}/status").read_text()
            match = re.search(rf"^{key}:\s+(\d+) kB", status, re.M)
            sizes.append(int(match.group(1)) // 1024 if match else 0)
        return sizes

    def cpu_seconds(self) -> float:
        """User and system CPU the workers have used so far, all together."""
        ticks = 0
        for process in self.processes:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def drain(ids: list[int], timeout: float) -> float:
    began = time.perf_counter()
    while pending(ids) and time.perf_counter() - began < timeout:
        time.sleep(0.05)
    left = pending(ids)
    if left:
        NOTES.append(f"{left} of {len(ids)} emails were still pending after {timeout:.0f} s.")
    return (len(ids) - left) / (time.perf_counter() - began)


def measure_delivery(options: argparse.Namespace) -> None:
    """The delivery rows: one worker against two, in pairs of runs back to back, beside the server's ceiling.

    Each pair sends a backlog with one worker and the same size with two, each set of workers
    started afresh and warmed, one worker first in every other pair: the machine's drift (another
    tenant, a checkpoint, the outbox growing run by run) falls on both sides alike instead of on
    all of one side's runs.
    """
    from followthrough.celery import app
    from notifications.tasks import deliver_backlog, deliver_notifications

    emails = options.emails or max(1000, min(10_000, options.commitments // 20))
    pairs = max(2, options.repeat)
    sink = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "smtp_sink.py")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert sink.stdout is not None
        port = int(sink.stdout.readline().split()[1])  # "ready PORT"
        progress(f"delivery: the SMTP server's own ceiling ({emails:,} emails)")
        one = statistics.median(plain_client_ceiling(port, emails, 1) for _ in range(options.repeat))
        two = plain_client_ceiling(port, emails, 2)
        row("SMTP server ceiling: one plain client, one connection", f"{one:,.0f} emails a second")
        row("SMTP server ceiling: two plain clients", f"{two:,.0f} emails a second")
        app.control.purge()
        rates: dict[int, list[float]] = {1: [], 2: []}
        cpu: dict[int, list[float]] = {1: [], 2: []}  # the workers' CPU milliseconds per email
        for attempt in range(pairs):
            for count in (1, 2) if attempt % 2 == 0 else (2, 1):
                progress(f"delivery: pair {attempt + 1} of {pairs}, a backlog of {emails:,} emails, {count} worker(s)")
                workers = Workers(count, f"smtp://127.0.0.1:{port}")
                try:
                    # A fresh worker's first message loads what a long-running one has loaded long ago
                    # (the URLconf for the unsubscribe link: ~0.2 s of CPU a process): a small backlog,
                    # not measured, so the rates are the steady state's, as in production.
                    warm = add_outbox_rows(100 * count, f"warm{count}-{attempt}")
                    deliver_backlog.delay()
                    drain(warm, timeout=60)
                    ids = add_outbox_rows(emails, f"backlog{count}-{attempt}")
                    memory_before = workers.memory("VmRSS")
                    began_cpu = workers.cpu_seconds()
                    deliver_backlog.delay()
                    rates[count].append(drain(ids, timeout=600))
                    cpu[count].append((workers.cpu_seconds() - began_cpu) * 1000 / len(ids))
                    if count == 2 and attempt == pairs - 1:
                        ids = add_outbox_rows(emails // 4, "created")
                        progress(f"delivery: {len(ids):,} emails, one task each (as after create), 2 workers")
                        for pk in ids:
                            deliver_notifications.delay([pk])
                        per_row = drain(ids, timeout=600)
                        began_memory, peak, now_rss = memory_before, workers.memory("VmHWM"), workers.memory("VmRSS")
                finally:
                    workers.stop()
            progress(
                f"  pair {attempt + 1}: 1 worker {rates[1][-1]:,.0f}, 2 workers {rates[2][-1]:,.0f} emails a second "
                f"({rates[2][-1] / rates[1][-1]:.2f}x)"
            )
        alone, together = statistics.median(rates[1]), statistics.median(rates[2])
        each = ", ".join(f"{pair_two / pair_one:.2f}x" for pair_one, pair_two in zip(rates[1], rates[2], strict=True))
        row(
            "delivery: backlog, 1 worker",
            f"{alone:,.0f} emails a second, {statistics.median(cpu[1]):.1f} ms of worker CPU each",
        )
        share = together / one if one else 0.0
        row(
            "delivery: backlog, 2 workers",
            f"{together:,.0f} emails a second = {share:.0%} of one client's ceiling, "
            f"{together / alone:.2f}x 1 worker (pairs {each}), {statistics.median(cpu[2]):.1f} ms of worker CPU each",
            "≥ 50% of ceiling; ~2x 1 worker",
            share >= 0.5 and together / alone >= 1.7,
        )
        row("delivery: one task per email (after create), 2 workers", f"{per_row:,.0f} emails a second")
        row(
            "worker memory (2 workers)",
            f"peak {'/'.join(map(str, peak))} MB; {'/'.join(map(str, began_memory))} MB before the last backlog, "
            f"{'/'.join(map(str, now_rss))} MB at the end",
            "flat",
            max(now_rss) - max(began_memory) < 20,
        )
    finally:
        sink.terminate()
        sink.wait()


# --- Pages --------------------------------------------------------------------------------------


class Page:
    """One thing a user asks the web for: a page, or an API call."""

    def __init__(
        self,
        name: str,
        path: str,
        *,
        api: bool = False,
        method: str = "GET",
        target_ms: float = 100,
        lead: bool = False,
    ) -> None:
        self.name, self.path, self.api, self.method, self.target_ms = name, path, api, method, target_ms
        self.lead = lead  # Asked by the first team's lead (each client its own session), not by its agents.


def page_list(people: dict[str, Any], *, commitment_id: int) -> list[Page]:
    """What is measured: add a page here and it is timed, counted and explained.

    A page whose route does not exist in this version (the dashboard before it lands) is skipped
    with a note.
    """
    from django.urls import Resolver404, resolve

    pages = [
        Page("agent's list /", "/"),
        Page("team list /team/", "/team/"),
        Page("commitment page", f"/commitments/{commitment_id}/"),
        Page("dashboard /dashboard/", "/dashboard/", target_ms=250),
        # The lead's dashboard: the whole team's lists and figures (an agent's covers their own).
        Page("dashboard /dashboard/ (the lead)", "/dashboard/", target_ms=250, lead=True),
        Page("API list", "/api/v1/commitments/", api=True),
        Page("API list ?status=open", "/api/v1/commitments/?status=open", api=True),
        Page("API create", "/api/v1/commitments/", api=True, method="POST", target_ms=30),
    ]
    found = []
    for page in pages:
        try:
            resolve(page.path.split("?")[0])
        except Resolver404:
            NOTES.append(f"{page.name}: {page.path} does not resolve in this version; skipped.")
            continue
        found.append(page)
    return found


def create_body(number: int, team_id: int) -> dict[str, Any]:
    due = (datetime.now().astimezone() + timedelta(days=3)).isoformat()
    return {
        "customer": {
            "name": f"New customer {number}",
            "email": f"new{number}-{os.getpid()}@example.com",
            "preferred_channel": "email",
            "timezone": "Europe/London",
        },
        "summary": "Send the repair estimate",
        "due_at": due,
        "team": team_id,
    }


def queries_of(page: Page, people: dict[str, Any]) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from benchmarks.seed import PASSWORD

    client = Client()
    user = people["lead"] if page.lead else people["agents"][0]
    headers = {}
    if page.api:  # As the timed clients call the API (and integrations do): with a token.
        token = client.post(
            "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, content_type="application/json"
        ).json()["token"]
        headers = {"authorization": f"Token {token}"}
    else:
        client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        if page.method == "POST":
            response = client.post(
                page.path, create_body(10**9, people["teams"][0].pk), content_type="application/json", headers=headers
            )
        else:
            response = client.get(page.path, headers=headers)
    if response.status_code >= 400:
        NOTES.append(f"{page.name} answered {response.status_code} in-process.")
    return len(queries)


def measure_pages(options: argparse.Namespace, port: int, people: dict[str, Any]) -> None:
    import requests

    from benchmarks.seed import PASSWORD

    pages = page_list(people, commitment_id=first_commitment_of(people["agents"][0]))
    counted = {page.name: queries_of(page, people) for page in pages}
    web_processes, web_threads, serving = gunicorn_shape(options.web)
    progress(f"pages: starting gunicorn ({serving})")
    NOTES.append(f"Pages and API served by gunicorn, {serving}, to {options.clients} concurrent clients.")
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "followthrough.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            web_processes,
            *(["--threads", web_threads] if web_threads else []),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, "WEB_CONCURRENCY": web_processes},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/accounts/login/", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.2)
        sessions: list[tuple[Any, str, int]] = []
        lead_sessions: list[tuple[Any, str, int]] = []
        agents = people["agents"][: options.clients]
        for agent in [*agents, *[people["lead"]] * len(agents)]:
            session = requests.Session()
            session.get(f"{base}/accounts/login/")
            session.post(
                f"{base}/accounts/login/",
                data={
                    "username": agent.username,
                    "password": PASSWORD,
                    "csrfmiddlewaretoken": session.cookies["csrftoken"],
                },
                headers={"Referer": f"{base}/accounts/login/"},
            )
            token = session.post(
                f"{base}/api/v1/auth/token/", json={"username": agent.username, "password": PASSWORD}
            ).json()["token"]
            commitment = first_commitment_of(agent)
            (lead_sessions if agent == people["lead"] else sessions).append((session, token, commitment))
        for page in pages:
            progress(f"pages: {page.name}, {options.clients} clients x {options.requests} requests")
            timings: list[float] = []
            lock = threading.Lock()
            failures = [0]

            def client(
                index: int,
                page: Page = page,
                timings: list[float] = timings,
                lock: threading.Lock = lock,
                failures: list[int] = failures,
            ) -> None:
                session, token, commitment = (lead_sessions if page.lead else sessions)[index]
                path = page.path
                if page.name == "commitment page":
                    path = f"/commitments/{commitment}/"
                api = requests.Session()  # a client of the API keeps its connection, as a browser does
                api.headers["Authorization"] = f"Token {token}"
                for number in range(options.requests + 3):
                    began = time.perf_counter()
                    if page.api:
                        if page.method == "POST":
                            body = create_body(index * 100_000 + number, people["teams"][0].pk)
                            response = api.post(base + path, json=body)
                        else:
                            response = api.get(base + path)
                    else:
                        response = session.get(base + path)
                    spent = (time.perf_counter() - began) * 1000
                    if response.status_code >= 400:
                        failures[0] += 1
                    if number >= 3:  # the first few warm the processes' caches
                        with lock:
                            timings.append(spent)

            threads = [threading.Thread(target=client, args=(index,)) for index in range(len(sessions))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            timings.sort()
            p50 = statistics.median(timings)
            p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
            queries = counted[page.name]
            target = f"p95 ≤ {page.target_ms:.0f} ms" + (", ≤ 10 queries" if page.method == "POST" else "")
            met = p95 <= page.target_ms and (page.method != "POST" or queries <= 10)
            row(f"{page.name}", f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, {queries} queries", target, met)
            if failures[0]:
                NOTES.append(f"{page.name}: {failures[0]} responses were errors.")
    finally:
        web.terminate()
        web.wait()


def gunicorn_shape(web: str) -> tuple[str, str, str]:
    """``--web`` as gunicorn's processes and threads (none: sync workers), and in words."""
    processes, _, threads = web.partition("x")
    if threads:
        return processes, threads, f"{processes} processes x {threads} threads"
    return processes, "", f"{processes} sync workers, one request at a time each"


# --- The report ---------------------------------------------------------------------------------


def describe_machine() -> dict[str, str]:
    import celery
    import django as django_module
    from django.db import connection

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
        # The settings a sweep's figure depends on most (README, "PostgreSQL for a million promises").
        tuning = []
        for name in ("shared_buffers", "max_wal_size", "wal_compression"):
            cursor.execute(f"SHOW {name}")
            tuning.append(f"{name} {cursor.fetchone()[0]}")
    return {
        "machine": f"{cpu}, {os.cpu_count()} cores, {int(memory.group(1)) // 1024 // 1024 if memory else '?'} GB RAM",
        "load average at the start": " ".join(f"{value:.2f}" for value in os.getloadavg()),
        "versions": (
            f"Python {platform.python_version()}, Django {django_module.get_version()}, PostgreSQL {postgres} "
            f"({', '.join(tuning)}), Celery {celery.__version__}"  # type: ignore[attr-defined]
        ),
    }


GENERATED_SECTIONS = {"Query plans"}


def kept_sections(page: Path) -> str:
    """The page's own ``## `` sections that this script does not write (measured by hand, by another
    benchmark): a refresh of the table keeps them."""
    if not page.exists():
        return ""
    sections = re.split(r"^(?=## )", page.read_text(), flags=re.M)[1:]
    kept = [section for section in sections if section[3:].splitlines()[0].strip() not in GENERATED_SECTIONS]
    return "".join("\n" + section.rstrip("\n") + "\n" for section in kept)


def render(options: argparse.Namespace, machine: dict[str, str], command: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `scripts/benchmark` (`benchmarks/run.py`, see the README); rerun it to refresh this page.",
        "",
        "Timings are medians of repeated runs where the table says so. They depend on the machine and on",
        "whatever else runs on it: the load averages below and beside each figure (the 1-minute one as the",
        "figure was taken) say how busy it was (on 2 cores, a load of 2 means every core already had",
        "work). Query counts and plans do not depend on load.",
        "Catch-up sweeps run in 1 or 2 processes at once, as one or two workers would; delivery runs",
        "real Celery workers (`--pool solo`) sending to a local aiosmtpd server that serves each",
        "connection in a process of its own, as Postfix does; 1 and 2 workers are measured in pairs.",
        "",
        f"- command: `{command}`",
        f"- date: {datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
    ]
    lines += [f"- {key}: {value}" for key, value in machine.items()]
    lines += ["", "| what | figure | target | | load (1 min) |", "| --- | --- | --- | --- | --- |"]
    lines += [
        f"| {what} | {figure} | {target} | {verdict} | {load} |" for (what, figure, target, verdict, load) in REPORT
    ]
    if NOTES:
        lines += ["", "Notes:", ""] + [f"- {note}" for note in dict.fromkeys(NOTES)]
    lines += ["", "## Query plans", "", "| query | scans (bold: a sequential scan) |", "| --- | --- |"]
    lines += [f"| {label} | {summary} |" for label, summary, _ in PLANS]
    lines += ["", "<details><summary>The plans in full</summary>", ""]
    for label, _, text in PLANS:
        lines += [f"### {label}", "", "```", text, "```", ""]
    lines += ["</details>", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
