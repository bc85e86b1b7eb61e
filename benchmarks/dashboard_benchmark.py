"""How fast the lead's dashboard (the page and GET /api/v1/dashboard/) answers on a big organisation.

Run from the repository root with a PostgreSQL ``DATABASE_URL`` (the benchmark works in a scratch
database next to it, created and dropped here)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/followthrough .venv/bin/python benchmarks/dashboard_benchmark.py

Options: ``--commitments N`` (default 1,000,000), ``--teams N`` (default 100, each with a lead and
ten agents), ``--days N`` (how far back the commitments go, default 180), ``--runs N`` (timed
requests per case, default 7), ``--keep`` (leave the scratch database; ``--reuse`` then skips the
seeding), ``--only TEXT`` (time only the cases whose label contains it). Not a test: it prints
figures.

The history is written with ``INSERT ... SELECT generate_series`` (a million commitments and
their timelines in a minute or two, rather than an hour through the ORM): logged over the last
``days`` days, most kept and confirmed, some slipped, missed, chased, reopened, a few waiting or
with a customer's reply unanswered, each with its "created" event and most with a status update.
Each case is timed as the whole request through Django's test client (session, queries,
template), after one warm-up request: the median and the slowest of ``runs``. The figures are
counted at most once a minute per scope and period (``dashboard.recent``): those requests find
them kept, and "counting" times one request that counts them afresh (the cache emptied first).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.scratch import database_urls, recreate_database  # noqa: E402

COMMITMENTS_SQL = """
INSERT INTO commitments_commitment (
    customer_id, team_id, owner_id, assignee_id, created_by_id, summary, details, external_ref, status,
    due_at, promised_at, update_interval, last_update_at, next_update_at, escalations_sent,
    next_escalation_at, waiting_request, missed_at, fulfilled_at, resolution, confirmed_at,
    status_token_nonce, status_token_hash, created_at, updated_at, temperature
)
SELECT
    1 + g %% %(customers)s,
    t.team_id, t.owner_id, t.owner_id, t.owner_id,
    'Send the repair estimate #' || g, '', '', s.status,
    s.due_at, s.promised_at, interval '24 hours',
    s.created_at, CASE WHEN s.status IN ('open', 'waiting', 'missed', 'reopened') THEN s.next_update_at END,
    0, NULL, '',
    CASE WHEN s.status = 'missed' THEN s.due_at END,
    s.fulfilled_at, '', CASE WHEN s.status = 'confirmed' THEN s.fulfilled_at + interval '1 day' END,
    md5(g::text), md5(g::text) || md5((g + 1)::text), s.created_at, s.created_at, 'calm'
FROM generate_series(1::bigint, %(commitments)s) AS g
JOIN (
    SELECT m.team_id, m.user_id AS owner_id,
           dense_rank() OVER (ORDER BY m.team_id) - 1 AS team_number,
           row_number() OVER (PARTITION BY m.team_id ORDER BY m.user_id) - 1 AS agent_number
    FROM accounts_membership m WHERE m.role = 'agent'
) AS t ON t.team_number = g %% %(teams)s AND t.agent_number = (g / %(teams)s) %% 10
CROSS JOIN LATERAL (
    SELECT
        c.created_at,
        c.created_at + c.lead_time AS promised_at,
        c.created_at + c.lead_time + CASE WHEN c.roll < 10 THEN interval '1 day' ELSE interval '0' END AS due_at,
        c.created_at + c.lead_time * (CASE WHEN c.roll < 12 THEN 1.3 ELSE 0.7 END) AS fulfilled_at_raw,
        c.created_at + interval '24 hours' AS next_update_at,
        c.roll,
        CASE
            WHEN c.created_at + c.lead_time > now() AND c.roll < 92 THEN 'open'
            WHEN c.created_at + c.lead_time > now() THEN 'waiting'
            WHEN c.created_at > now() - interval '3 days' AND c.roll < 8 THEN 'missed'
            WHEN c.roll < 2 THEN 'missed'
            WHEN c.roll < 5 THEN 'reopened'
            WHEN c.roll < 10 THEN 'cancelled'
            WHEN c.roll < 40 THEN 'fulfilled'
            ELSE 'confirmed'
        END AS status
    FROM (
        SELECT
            now() - ((g * 7919) %% (%(days)s * 1440)) * interval '1 minute' AS created_at,
            interval '1 hour' * (4 + abs(hashtext('lead' || g)) %% 68) AS lead_time,
            abs(hashtext(g::text)) %% 100 AS roll
    ) AS c
) AS s0
CROSS JOIN LATERAL (
    SELECT s0.*, CASE WHEN s0.status IN ('fulfilled', 'confirmed', 'reopened') THEN
        least(s0.fulfilled_at_raw, now()) END AS fulfilled_at
) AS s
"""

EVENTS_SQL = [
    # Every commitment's "created" event.
    """INSERT INTO commitments_timelineevent (commitment_id, kind, actor_id, actor_label, message, data, created_at)
       SELECT id, 'created', owner_id, '', summary, jsonb_build_object('due_at', promised_at), created_at
       FROM commitments_commitment""",
    # A status update a day on for those that lasted that long; one in twelve late.
    """INSERT INTO commitments_timelineevent (commitment_id, kind, actor_id, actor_label, message, data, created_at)
       SELECT id, 'update_sent', NULL, 'system', 'Automatic status update.', '{"automatic": true}',
              created_at + CASE WHEN abs(hashtext(id::text)) %% 12 = 0
                                THEN interval '30 hours' ELSE interval '24 hours' END
       FROM commitments_commitment WHERE coalesce(fulfilled_at, now()) > created_at + interval '24 hours'""",
    # The customer chased one in twenty.
    """INSERT INTO commitments_timelineevent (commitment_id, kind, actor_id, actor_label, message, data, created_at)
       SELECT id, 'chased', owner_id, '', 'Called to ask.', '{}', created_at + interval '2 hours'
       FROM commitments_commitment WHERE abs(hashtext(id::text)) %% 20 = 3""",
    # Reopened ones were reopened by the customer.
    """INSERT INTO commitments_timelineevent (commitment_id, kind, actor_id, actor_label, message, data, created_at)
       SELECT id, 'reopened', NULL, 'customer', 'Still a problem.', '{}', fulfilled_at + interval '1 day'
       FROM commitments_commitment WHERE status = 'reopened'""",
    # Replies: one in fifty of those still open wrote to us in the last day. (Hashes, not ``id % n``:
    # a team's ids are spaced by the number of teams, and must not all land on the same outcome.)
    """INSERT INTO commitments_timelineevent (commitment_id, kind, actor_id, actor_label, message, data, created_at)
       SELECT id, 'customer_reply', NULL, 'customer', 'Any news?', '{"via": "sms"}',
              greatest(created_at, now() - interval '20 hours')
       FROM commitments_commitment
       WHERE status IN ('open', 'missed', 'waiting') AND abs(hashtext(id::text)) %% 50 = 7""",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commitments", type=int, default=1_000_000)
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="use the kept scratch database as it is")
    parser.add_argument("--only", default="", help="time only the cases whose label contains this text")
    options = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/followthrough")
    bench_url, name, maintenance_url = database_urls(url, suffix="_dashboard_bench")
    if not options.reuse:
        recreate_database(maintenance_url, name)
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followthrough.settings")
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # DEBUG as in development (static files without collectstatic); it only adds a list of the
    # queries made, which costs far less than the queries.
    os.environ["DEBUG"] = "true"

    import django

    django.setup()
    try:
        if not options.reuse:
            seed(options)
        measure(options)
    finally:
        from django.db import connections

        connections.close_all()
        if not options.keep:
            recreate_database(maintenance_url, name, drop_only=True)


def seed(options: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Membership, Team, User

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    users = []
    for number in range(options.teams):
        team = Team.objects.create(name=f"Support {number:03d}", timezone="America/New_York")
        lead = User(username=f"lead{number}", first_name="Lee", last_name=f"Chen {number}", email=f"lead{number}@x.com")
        agents = [
            User(
                username=f"agent{number}-{a}", first_name="Alex", last_name=f"Rivera {a}", email=f"a{number}-{a}@x.com"
            )
            for a in range(10)
        ]
        User.objects.bulk_create([lead, *agents])
        users.append(lead)
        Membership.objects.bulk_create(
            [Membership(user=lead, team=team, role=Membership.Role.LEAD)]
            + [Membership(user=agent, team=team, role=Membership.Role.AGENT) for agent in agents]
        )
    lead = User.objects.get(username="lead0")
    lead.set_password("benchmark")
    lead.save()
    # A customer belongs to the team whose commitments name them: commitment g has customer
    # 1 + g % customers and the team numbered g % teams, which agree when teams divides customers.
    customers = max(options.commitments // 5 // options.teams, 1) * options.teams
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO commitments_customer (team_id, name, email, phone, preferred_channel, timezone,
                   sms_opted_out, email_updates_opted_out, notes, language, undeliverable_email,
                   undeliverable_email_reason, created_at, updated_at)
               SELECT t.id, 'Customer ' || g, 'customer' || g || '@example.com', '+1202' || lpad(g::text, 7, '0'),
                      (ARRAY['email', 'email', 'email', 'sms', 'phone'])[1 + g %% 5], 'America/New_York',
                      false, false, '', '', '', '', now(), now()
               FROM generate_series(1, %(customers)s) AS g
               JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS team_number FROM accounts_team) AS t
                 ON t.team_number = (g - 1) %% %(teams)s""",
            {"customers": customers, "teams": options.teams},
        )
        print(f"Teams and {customers:,} customers in {time.perf_counter() - started:.1f}s")
        started = time.perf_counter()
        cursor.execute(
            COMMITMENTS_SQL,
            {"commitments": options.commitments, "customers": customers, "teams": options.teams, "days": options.days},
        )
        print(f"{options.commitments:,} commitments in {time.perf_counter() - started:.1f}s")
        started = time.perf_counter()
        for statement in EVENTS_SQL:
            cursor.execute(statement.replace("%%", "%"))
        cursor.execute("SELECT count(*) FROM commitments_timelineevent")
        (events,) = cursor.fetchone()
        print(f"{events:,} timeline events in {time.perf_counter() - started:.1f}s")
        started = time.perf_counter()
        cursor.execute("VACUUM ANALYZE") if connection.get_autocommit() else cursor.execute("ANALYZE")
        print(f"ANALYZE in {time.perf_counter() - started:.1f}s")


def measure(options: argparse.Namespace) -> None:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Membership, Team, User

    lead = User.objects.get(username="lead0")
    team = Team.objects.get(name="Support 000")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM commitments_commitment WHERE team_id = %s", [team.pk])
        (team_total,) = cursor.fetchone()
    # A lead of ten teams: a department head.
    head, made = User.objects.get_or_create(username="head", defaults={"first_name": "Dana", "email": "head@x.com"})
    if made:
        Membership.objects.bulk_create(
            [Membership(user=head, team=t, role=Membership.Role.LEAD) for t in Team.objects.order_by("pk")[:10]]
        )
    admin, _ = User.objects.get_or_create(
        username="operator", defaults={"is_superuser": True, "is_staff": True, "email": "op@x.com"}
    )
    cases = [
        (f"page, one team's lead ({team_total:,} commitments in the team)", lead, "/dashboard/", {}),
        ("page, one team's lead, 90 days", lead, "/dashboard/", {"period": "90"}),
        ("API, one team's lead", lead, "/api/v1/dashboard/", {}),
        ("API, one team's lead, 90 days", lead, "/api/v1/dashboard/", {"period": "90"}),
        ("page, a lead of ten teams", head, "/dashboard/", {}),
        ("API, a lead of ten teams", head, "/api/v1/dashboard/", {}),
        ("CSV of the missed list, one team", lead, "/dashboard/missed.csv", {}),
        (f"page, a superuser over all {options.teams} teams", admin, "/dashboard/", {}),
        (f"API, a superuser over all {options.teams} teams", admin, "/api/v1/dashboard/", {}),
    ]
    cases = [case for case in cases if options.only in case[0]]
    print(f"load average {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    # Wall time on a busy machine mostly measures the other processes; the CPU time this process and
    # its PostgreSQL backend spent (mean per request) depends far less on them.
    print(f"\n{'case':<62} {'median':>9} {'slowest':>9} {'cpu app':>9} {'cpu db':>8} {'queries':>8} {'counting':>9}")
    for label, user, path, params in cases:
        client = Client()
        client.force_login(user)
        response = client.get(path, params)
        assert response.status_code == 200, (label, response.status_code)
        if response.streaming:
            b"".join(getattr(response, "streaming_content", []))
        timings = []
        app_started, db_started = time.process_time(), backend_cpu()
        for _ in range(options.runs):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(path, params)
                if response.streaming:
                    b"".join(getattr(response, "streaming_content", []))
                timings.append(time.perf_counter() - started)
        app_cpu = (time.process_time() - app_started) / options.runs
        db_cpu = (backend_cpu() - db_started) / options.runs
        queries = len(captured.captured_queries)  # Before the next request empties Django's list of them.
        cache.clear()  # The figures counted afresh, as once a minute.
        started = time.perf_counter()
        response = client.get(path, params)
        if response.streaming:
            b"".join(getattr(response, "streaming_content", []))
        counting = time.perf_counter() - started
        print(
            f"{label:<62} {statistics.median(timings) * 1000:>7.0f}ms {max(timings) * 1000:>7.0f}ms "
            f"{app_cpu * 1000:>7.0f}ms {db_cpu * 1000:>6.0f}ms {queries:>8} "
            f"{counting * 1000:>7.0f}ms"
        )


def backend_cpu() -> float:
    """Seconds of CPU this connection's PostgreSQL backend has used (Linux, server on this machine; else 0)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


if __name__ == "__main__":
    main()
