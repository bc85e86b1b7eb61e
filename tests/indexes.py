"""What an index holds and what a statement reads, for the tests that hold a list to its covering index."""

import re

from django.db import connection


def columns_of_index(name: str) -> set[str]:
    """Every column of the index ``name``, its keys and its INCLUDE columns alike (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE c.relname = %s",
            [name],
        )
        return {column for (column,) in cursor.fetchall()}


def commitment_columns_read(sql: str) -> set[str]:
    """The columns of the commitments table a statement names."""
    return set(re.findall(r'"commitments_commitment"\."(\w+)"', sql))
