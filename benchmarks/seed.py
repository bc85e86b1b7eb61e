"""Fill an empty database with N commitments as a big support organisation has them, fast (COPY).

20 teams of 10 (a lead and nine agents); about two commitments per customer; statuses spread as a
live system has them (two thirds still owed); due times within 14 days either side of now; about
1% of all commitments due for a status update at ``now`` (and nothing else due: a running beat has
asked the satisfaction checks of the days before); a timeline (logged, acknowledgement
sent, an update or two) and the acknowledgement's outbox row for each one.

Every column the seeder does not set takes the model's default, so fields added later (a
customer's team, a language, a temperature) are filled without touching this file; a required
foreign key to a team is given the commitment's (or customer's) team.
"""

import io
import json
import random
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, models

TEAMS = 20
TEAM_SIZE = 10
PASSWORD = "bench-password-1"
CHUNK = 20_000

# (status, share of all commitments): two thirds still owed, as in a live system.
STATUS_SPREAD = [
    ("open", 0.55),
    ("waiting", 0.05),
    ("reopened", 0.01),
    ("missed", 0.05),
    ("fulfilled", 0.04),
    ("confirmed", 0.25),
    ("cancelled", 0.05),
]
ACTIVE = {"open", "waiting", "reopened", "missed"}
ZONES = ["America/New_York", "Europe/London", "America/Chicago", "Asia/Singapore", "Europe/Madrid"]
CHANNELS = ["email"] * 14 + ["sms"] * 5 + ["phone"]
UPDATE_DUE_SHARE = 0.01


def _text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return f"{int(value.total_seconds())} seconds"
    if isinstance(value, dict | list):
        return json.dumps(value).replace("\\", "\\\\")
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", "\\n")


def _defaults(model: type[models.Model], given: list[str], now: datetime) -> tuple[dict[str, Any], list[str]]:
    """Values for the columns a seeded row does not set (the model's defaults), and its team columns."""
    filled: dict[str, Any] = {}
    teams: list[str] = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in given:
            continue
        if isinstance(field, models.ForeignKey) and field.related_model._meta.model_name == "team":  # type: ignore[union-attr]
            filled[field.column] = None
            teams.append(field.column)
            continue
        value = field.get_default() if field.has_default() else None
        if value is None and not field.null:
            if isinstance(field, models.DateTimeField):
                value = now
            elif isinstance(field, models.CharField | models.TextField):
                value = ""
        filled[field.column] = value
    return filled, teams


def copy_rows(
    model: type[models.Model],
    columns: list[str],
    rows: Iterable[tuple[Any, ...]],
    *,
    now: datetime,
    team_of: Callable[[tuple[Any, ...]], int] | None = None,
) -> int:
    """COPY ``rows`` (values for ``columns``) into the model's table, other columns at their defaults."""
    sample, team_columns = _defaults(model, columns, now)
    extra = list(sample)
    written = 0
    with connection.cursor() as cursor:
        for chunk in _chunks(rows):
            buffer = io.StringIO()
            for row in chunk:
                values = [_text(value) for value in row]
                for column in extra:
                    value = team_of(row) if column in team_columns and team_of else sample[column]
                    values.append(_text(value))
                buffer.write("\t".join(values) + "\n")
            buffer.seek(0)
            table = model._meta.db_table
            names = ", ".join(f'"{column}"' for column in columns + extra)
            cursor.cursor.copy_expert(f'COPY "{table}" ({names}) FROM STDIN', buffer)
            written += len(chunk)
    return written


def _chunks(rows: Iterable[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def seed(total: int, now: datetime, progress: Callable[[str], None]) -> dict[str, Any]:
    """Seed ``total`` commitments; answer the people the benchmark logs in as."""
    from accounts.models import Membership, Team, User
    from commitments.models import Commitment, CommitmentSearchText, Customer, TimelineEvent
    from commitments.status_links import hash_token, token_for
    from notifications.models import Notification

    randomness = random.Random(15)
    password = make_password(PASSWORD)
    teams = Team.objects.bulk_create([Team(name=f"Team {n:02d}", timezone=ZONES[n % len(ZONES)]) for n in range(TEAMS)])
    people: list[User] = []
    memberships = []
    for team in teams:
        for seat in range(TEAM_SIZE):
            role = Membership.Role.LEAD if seat == 0 else Membership.Role.AGENT
            name = f"{'lead' if seat == 0 else 'agent'}{team.pk}-{seat}"
            person = User(username=name, first_name="Sam", last_name=name, email=f"{name}@example.com")
            person.password = password
            people.append(person)
            memberships.append((team, person, role))
    User.objects.bulk_create(people)
    Membership.objects.bulk_create([Membership(user=p, team=t, role=r) for t, p, r in memberships])
    agents = [(t.pk, p.pk) for t, p, r in memberships if r == Membership.Role.AGENT]

    customers = max(1, total // 2)
    progress(f"seeding {customers:,} customers")
    copy_rows(
        Customer,
        ["id", "name", "email", "phone", "preferred_channel", "timezone"],
        (
            (n + 1, f"Customer {n}", f"customer{n}@example.com", f"+1202{n:07d}", CHANNELS[n % 20], ZONES[n % 5])
            for n in range(customers)
        ),
        now=now,
        team_of=lambda row: agents[(row[0] - 1) % len(agents)][0],
    )

    statuses = [status for status, share in STATUS_SPREAD for _ in range(int(share * 100))]
    day = timedelta(days=1)

    def commitment_rows() -> Iterator[tuple[Any, ...]]:
        for n in range(total):
            team_id, owner_id = agents[n % len(agents)]
            status = statuses[randomness.randrange(len(statuses))]
            created = now - timedelta(seconds=randomness.randrange(1, 28 * 86400))
            if status in ("open", "reopened", "waiting"):
                due = now + timedelta(seconds=randomness.randrange(3600, 14 * 86400))
            elif status == "missed":
                due = now - timedelta(seconds=randomness.randrange(3600, 14 * 86400))
            else:
                due = now + timedelta(seconds=randomness.randrange(-14 * 86400, 14 * 86400))
            last_update = now - timedelta(seconds=randomness.randrange(60, 86400 - 600))
            next_update = last_update + day if status in ACTIVE else None
            if randomness.random() < UPDATE_DUE_SHARE:
                status, next_update = "open", now - timedelta(seconds=randomness.randrange(1, 600))
                due = now + timedelta(seconds=randomness.randrange(30 * 3600, 14 * 86400))
            escalation = None
            sent = 0
            if status in ("open", "reopened", "waiting"):
                escalation, sent = (due - day, 0) if due - day > now else (due - timedelta(hours=4), 1)
                if escalation <= now:
                    escalation, sent = None, 2
            elif status == "missed":
                escalation, sent = now + timedelta(seconds=randomness.randrange(600, 86400)), 2
            fulfilled = due - timedelta(hours=2) if status in ("fulfilled", "confirmed") else None
            nonce = f"{n:064x}"
            yield (
                n + 1,
                n // 2 + 1 if n // 2 < customers else customers,
                team_id,
                owner_id,
                owner_id,
                f"Send the repair estimate for order {n}",
                f"Customer asked for a written estimate; ticket {n}.",
                f"TCK-{n}",
                status,
                due,
                day,
                last_update,
                next_update,
                sent,
                escalation,
                now - timedelta(hours=1) if status == "missed" else None,
                fulfilled,
                # A day after fulfilment; one whose day has passed was asked already by a running beat.
                fulfilled + day if status == "fulfilled" and fulfilled and fulfilled + day > now else None,
                now if status == "confirmed" else None,
                now if status == "cancelled" else None,
                nonce,
                hash_token(token_for(nonce)),
                created,
            )

    progress(f"seeding {total:,} commitments")
    copy_rows(
        Commitment,
        [
            "id",
            "customer_id",
            "team_id",
            "owner_id",
            "assignee_id",
            "summary",
            "details",
            "external_ref",
            "status",
            "due_at",
            "update_interval",
            "last_update_at",
            "next_update_at",
            "escalations_sent",
            "next_escalation_at",
            "missed_at",
            "fulfilled_at",
            "satisfaction_due_at",
            "confirmed_at",
            "cancelled_at",
            "status_token_nonce",
            "status_token_hash",
            "created_at",
        ],
        commitment_rows(),
        now=now,
    )
    # The words search finds them by, in their own table (as create_commitment keeps them).
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{CommitmentSearchText._meta.db_table}" (commitment_id, summary, details, external_ref) '
            f'SELECT id, summary, details, external_ref FROM "{Commitment._meta.db_table}"'
        )

    def events() -> Iterator[tuple[Any, ...]]:
        for n in range(total):
            owner_id = agents[n % len(agents)][1]
            start = now - timedelta(days=3, seconds=n % 86400)
            yield (n + 1, "created", owner_id, "", "Logged the promise.", {}, start)
            yield (
                n + 1,
                "message",
                None,
                "system",
                "Acknowledgement by email sent.",
                {"kind": "acknowledgement"},
                start,
            )
            for step in range(n % 3):
                yield (n + 1, "update_sent", owner_id, "", f"Update {step}: parts ordered.", {}, start + day * step)

    progress("seeding timelines")
    copy_rows(
        TimelineEvent,
        ["commitment_id", "kind", "actor_id", "actor_label", "message", "data", "created_at"],
        events(),
        now=now,
    )
    progress("seeding the outbox's history")
    copy_rows(
        Notification,
        [
            "commitment_id",
            "kind",
            "channel",
            "audience",
            "recipient",
            "subject",
            "body",
            "status",
            "sent_at",
            "attempts",
            "idempotency_key",
        ],
        (
            (
                n + 1,
                "acknowledgement",
                "email",
                "customer",
                f"customer{n // 2}@example.com",
                "We have your request",
                "Thank you: we will send the estimate by the time promised.",
                "sent",
                now - timedelta(days=3),
                1,
                f"{n + 1}:acknowledgement",
            )
            for n in range(total)
        ),
        now=now,
    )
    with connection.cursor() as cursor:
        for model in (Customer, Commitment, TimelineEvent, Notification):
            table = model._meta.db_table
            highest = f'SELECT COALESCE(MAX(id), 1) FROM "{table}"'
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), ({highest}))")
        progress("vacuum analyze")
        cursor.execute("VACUUM ANALYZE")
    return people_of()


def people_of() -> dict[str, Any]:
    """The people the benchmark logs in as: the first team's lead and agents, and every team."""
    from accounts.models import Membership, Team

    teams = list(Team.objects.order_by("pk"))
    first = Membership.objects.filter(team=teams[0]).select_related("user").order_by("user_id")
    lead = next(m.user for m in first if m.role == Membership.Role.LEAD)
    agents = [m.user for m in first if m.role == Membership.Role.AGENT]
    return {"lead": lead, "agents": agents, "teams": teams}
