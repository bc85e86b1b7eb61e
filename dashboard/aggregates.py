"""A median the database computes: PostgreSQL's ``percentile_cont``, and the same for SQLite.

SQLite (the embedded database of a first run) has no median of its own: one is registered on each
of its connections, so the figures are still computed by the database and never by loading rows.
"""

import statistics
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Aggregate, DurationField


class Median(Aggregate):
    """The middle value of a duration (NULLs, e.g. the ``Case`` rows that do not apply, are ignored)."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()
    allow_distinct = False

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(compiler, connection, function="FT_MEDIAN", template="%(function)s(%(expressions)s)")


class _SqliteMedian:
    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> int | None:
        # Durations are stored in microseconds on SQLite.
        return round(statistics.median(self.values)) if self.values else None


def add_median_to_sqlite(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("FT_MEDIAN", 1, _SqliteMedian)
