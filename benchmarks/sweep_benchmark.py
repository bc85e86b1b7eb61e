"""How fast the sweeps turn due commitments into outbox rows, and how fast a second sweep finds nothing.

Run from the repository root with a PostgreSQL ``DATABASE_URL`` (the benchmark works in a scratch
database next to it, created and dropped here)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/followthrough .venv/bin/python benchmarks/sweep_benchmark.py

Options: ``--commitments N`` (default 20000), ``--batch-size N`` (the sweep's batch), ``--sweepers N``
(that many sweeps at once in separate processes, as several workers would run them; SKIP LOCKED
shares the work out), ``--profile FILE`` (run the first sweep under cProfile, save the stats to FILE
and print the costliest functions), ``--keep`` (leave the scratch database). Not a test: it prints
figures, with the time spent waiting on each kind of statement.

The promises belong to four teams of six, their customers spread over four zones and three
channels, each with its own due and update times; the process first loads what a running worker
has loaded long before (URL conf, templates), so that the first sweep is measured as a worker
runs it. Other processes on the machine (a test suite, say) move the figures by a third or more:
run it a few times.
"""

import argparse
import cProfile
import multiprocessing
import os
import pstats
import secrets
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def scratch_url(url: str) -> tuple[str, str, str]:
    """The scratch database's URL, its name, and the URL of the server's maintenance database."""
    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'followthrough'}_sweep_bench"
    return (
        urlunsplit(parts._replace(path=f"/{name}")),
        name,
        urlunsplit(parts._replace(path="/postgres")),
    )


def recreate_database(maintenance_url: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg2

    connection = psycopg2.connect(maintenance_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not drop_only:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commitments", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=0)
    parser.add_argument("--sweepers", type=int, default=1, help="sweeps running at once, as several workers would")
    parser.add_argument("--profile", default="", help="save cProfile stats of the first sweep to this file")
    parser.add_argument("--keep", action="store_true")
    options = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/followthrough")
    bench_url, name, maintenance_url = scratch_url(url)
    recreate_database(maintenance_url, name)
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followthrough.settings")
    # Deliveries enqueued by the sweep go to an in-memory broker: this measures the sweep alone.
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    import django

    django.setup()
    try:
        run(options)
    finally:
        from django.db import connections

        connections.close_all()
        if not options.keep:
            recreate_database(maintenance_url, name, drop_only=True)


def run(options: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Membership, Team, User
    from commitments.models import Commitment, Customer, Status
    from commitments.status_links import hash_token, token_for
    from notifications import sweeps
    from notifications.models import Notification

    call_command("migrate", verbosity=0)
    warm_up()
    if options.batch_size:
        sweeps.BATCH_SIZE = options.batch_size
    total = options.commitments
    now = timezone.now()

    started = time.perf_counter()
    # Four teams in four zones, each with a lead and five agents who own the promises in turn.
    owners: list[tuple[Team, User]] = []
    for number, zone in enumerate(["America/New_York", "Europe/London", "America/Chicago", "Asia/Singapore"]):
        team = Team.objects.create(name=f"Benchmark {number}", timezone=zone)
        lead = User.objects.create(
            username=f"lead{number}", first_name="Lee", last_name=f"Chen {number}", email=f"lead{number}@example.com"
        )
        Membership.objects.create(user=lead, team=team, role=Membership.Role.LEAD)
        for agent in range(5):
            owner = User.objects.create(
                username=f"agent{number}-{agent}",
                first_name="Alex",
                last_name=f"Rivera {number}-{agent}",
                email=f"agent{number}-{agent}@example.com",
            )
            Membership.objects.create(user=owner, team=team, role=Membership.Role.AGENT)
            owners.append((team, owner))
    channels = ["email"] * 14 + ["sms"] * 5 + ["phone"]
    zones = ["America/New_York", "Europe/Paris", "Asia/Tokyo", "America/Los_Angeles"]
    customers = Customer.objects.bulk_create(
        [
            Customer(
                team=owners[index % len(owners)][0],
                name=f"Customer {index}",
                email=f"customer{index}@example.com",
                phone=f"+1202{index:07d}",
                preferred_channel=channels[index % len(channels)],
                timezone=zones[index % len(zones)],
            )
            for index in range(total)
        ],
        batch_size=5000,
    )
    # Half are due a status update, a quarter are past due (missed), a quarter at a warning step.
    # Each promise has its own times, spread over the hour before now (or the days ahead), as
    # real ones are: nothing is cheaper here because thousands of promises share one moment.
    interval = timedelta(hours=24)
    rows = []
    for index, customer in enumerate(customers):
        nonce = secrets.token_hex(32)
        kind = index % 4
        spread = timedelta(seconds=(index * 7919) % 3600)
        due_at = now + (timedelta(days=3), timedelta(days=3), timedelta(minutes=-5), timedelta(hours=3))[kind]
        due_at += spread if kind != 2 else -spread
        last_update_at = now - interval - spread
        team, owner = owners[index % len(owners)]
        rows.append(
            Commitment(
                customer=customer,
                team=team,
                owner=owner,
                assignee=owner,
                summary=f"Send the repair estimate #{index}",
                status=Status.OPEN,
                due_at=due_at,
                update_interval=interval,
                last_update_at=last_update_at,
                next_update_at=last_update_at + interval if kind < 2 else now + timedelta(hours=20),
                escalations_sent=1 if kind == 3 else 0,
                next_escalation_at=now - timedelta(minutes=1) - spread if kind == 3 else due_at - timedelta(hours=24),
                status_token_nonce=nonce,
                status_token_hash=hash_token(token_for(nonce)),
                created_at=last_update_at,
            )
        )
    Commitment.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"Set up {total:,} due commitments in {time.perf_counter() - started:.1f}s (batch size {sweeps.BATCH_SIZE}).")

    queries = {"count": 0, "seconds": 0.0}
    statements: dict[str, int] = {}
    waited: dict[str, float] = {}

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        queries["count"] += 1
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - began
            queries["seconds"] += spent
            what = statement_kind(sql)
            statements[what] = statements.get(what, 0) + 1
            waited[what] = waited.get(what, 0.0) + spent

    def timed_sweep(profile: str = "") -> tuple[dict[str, int], float, int]:
        queries["count"], queries["seconds"] = 0, 0.0
        statements.clear()
        waited.clear()
        profiler = cProfile.Profile() if profile else None
        with connection.execute_wrapper(count):
            began = time.perf_counter()
            if profiler:
                profiler.enable()
            counts = sweeps.run_sweeps(now)
            if profiler:
                profiler.disable()
            seconds = time.perf_counter() - began
        if profiler:
            profiler.dump_stats(profile)
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
        return counts, seconds, int(queries["count"])

    if options.sweepers > 1:
        counts, seconds, query_count = parallel_sweeps(options.sweepers, now)
    else:
        counts, seconds, query_count = timed_sweep(options.profile)
    handled = sum(counts.values())
    made = Notification.objects.count()
    print(f"First sweep:  {counts}")
    print(
        f"              {handled:,} commitments in {seconds:.2f}s = {handled / seconds:,.0f} commitments/second; "
        f"{made:,} outbox rows; {query_count} queries ({query_count / max(1, handled):.3f} per commitment)"
        + (f", {queries['seconds']:.2f}s of it waiting on the database" if options.sweepers == 1 else "")
    )
    if options.sweepers == 1:
        for what, spent in sorted(waited.items(), key=lambda item: -item[1]):
            print(f"              {spent:6.2f}s in {statements[what]:4d} x {what}")
    counts, seconds, query_count = timed_sweep()
    print(f"Second sweep: {counts}")
    print(f"              nothing to do in {seconds * 1000:.1f} ms, {query_count} queries")


def warm_up() -> None:
    """Load what a worker loads once, on its first message: the URL conf and the message templates.

    Otherwise the first sweep of this fresh process would count a second of imports (the URL conf
    pulls in the API and its schema generator) that a running worker paid long ago.
    """
    from django.template.loader import get_template
    from django.urls import reverse

    reverse("customer:status", args=["warm-up"])
    for folder in sorted((ROOT / "templates" / "notifications").iterdir()):
        for template in sorted(folder.glob("*.*")):
            get_template(f"notifications/{folder.name}/{template.name}")


def statement_kind(sql: str) -> str:
    """``INSERT notifications_notification``, ``SELECT commitments_commitment``: what a statement does, where."""
    words = sql.replace("(", " ").split()
    verb = words[0].upper() if words else "?"
    after = {"INSERT": "INTO", "UPDATE": "UPDATE", "SELECT": "FROM", "WITH": "FROM", "DELETE": "FROM"}.get(verb)
    upper = [word.upper() for word in words]
    if after is None or after not in upper:
        return verb
    return f"{verb} {words[upper.index(after) + 1].strip(chr(34))}"


def parallel_sweeps(processes: int, now: "datetime") -> tuple[dict[str, int], float, int]:
    """Several sweeps at once, each in its own process with its own connection."""
    from django.db import connections

    connections.close_all()  # Each child opens its own.
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        began = time.perf_counter()
        results = pool.map(_sweep_in_child, [now] * processes)
        seconds = time.perf_counter() - began
    counts = {key: sum(result[0][key] for result in results) for key in results[0][0]}
    print(f"              per sweeper: {[sum(result[0].values()) for result in results]}")
    return counts, seconds, sum(result[1] for result in results)


def _sweep_in_child(now: "datetime") -> tuple[dict[str, int], int]:
    from django.db import connection

    from notifications import sweeps

    statements = [0]

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        statements[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        counts = sweeps.run_sweeps(now)
    connection.close()
    return counts, statements[0]


if __name__ == "__main__":
    main()
