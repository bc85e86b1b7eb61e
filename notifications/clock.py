"""One clock for leases: the database's.

Workers run on several machines whose clocks drift apart. A lease written by one worker and read
by another must mean the same instant to both, so leases are taken and compared on the database's
clock. Each worker then measures how much of its lease is left on its own clock, from the moment
it claimed (an interval, which drift between machines does not change).
"""

from datetime import datetime

from django.db import connection
from django.db.models.functions import Now
from django.utils import timezone


def database_now() -> datetime:
    """The database server's current time (its transaction's start time on PostgreSQL).

    SQLite (the embedded default) has no server: its one worker's clock is the only one.
    """
    if connection.vendor != "postgresql":
        return timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        (now,) = cursor.fetchone()
    return now


def database_now_in_query() -> Now | datetime:
    """The database's clock inside a statement (no round trip of its own); SQLite: this worker's clock."""
    if connection.vendor != "postgresql":
        return timezone.now()
    return Now()
