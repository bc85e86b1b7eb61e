"""Writing a batch of changed rows back in one statement: how the sweeps' service actions stay fast."""

from datetime import datetime
from typing import Any, TypeVar, cast

from django.db import connection
from django.db.models import DateTimeField, Field, Model

Row = TypeVar("Row", bound=Model)


def save_changes(batch: list[Row], fields: list[str]) -> None:
    """Write these columns of the whole batch back in one statement.

    On PostgreSQL, ``UPDATE ... FROM unnest(<one array per column>)``: a handful of parameters
    however big the batch. Django's ``bulk_update`` says the same with a ``CASE`` per column and
    row, which costs more to build than the sweep spends on everything else.
    """
    if not batch:
        return
    if connection.vendor != "postgresql":
        type(batch[0])._default_manager.bulk_update(batch, fields)
        return
    meta = batch[0]._meta
    quote = connection.ops.quote_name
    columns: list[Field[Any, Any]] = [meta.pk]
    columns.extend(cast("Field[Any, Any]", meta.get_field(name)) for name in fields)
    arrays = [_column_values(column, batch) for column in columns]
    arrays_sql = ", ".join(f"%s::{column.db_type(connection)}[]" for column in columns)
    names = ", ".join(quote(str(column.column)) for column in columns)
    assignments = ", ".join(f"{quote(str(column.column))} = v.{quote(str(column.column))}" for column in columns[1:])
    table, pk = quote(meta.db_table), quote(str(meta.pk.column))
    with connection.cursor() as cursor:
        # The ids once more as ``= ANY``: the planner then finds the rows through the primary key,
        # where with the join alone it may hash the whole table (a full scan per batch at a million rows).
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM unnest({arrays_sql}) AS v ({names}) "  # noqa: S608
            f"WHERE {table}.{pk} = v.{pk} AND {table}.{pk} = ANY(%s::{meta.pk.db_type(connection)}[])",
            [*arrays, arrays[0]],
        )


def _column_values(column: "Field[Any, Any]", batch: list[Row]) -> list[Any]:
    values = [getattr(row, column.attname) for row in batch]
    if not isinstance(column, DateTimeField):
        return values
    # As text: psycopg2 writes a list of datetimes out one slow adaptation at a time.
    written: dict[datetime, str] = {}
    for index, value in enumerate(values):
        if value is not None:
            values[index] = written.get(value) or written.setdefault(value, value.isoformat())
    return values
