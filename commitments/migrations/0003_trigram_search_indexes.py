"""Trigram indexes so searching for words in summaries, details, references and customers' names, emails and
phone numbers stays fast at a million commitments. PostgreSQL only; SQLite (the embedded default)
scans, which is fine at its size.

The indexed expressions match the SQL Django writes for ``icontains`` (``UPPER(col::text)``) and
``contains`` (``col::text``), so the planner can use them.
"""

from django.db import migrations

INDEXES = [
    ("commitment_summary_trgm", "commitments_commitment", 'UPPER("summary"::text)'),
    ("commitment_details_trgm", "commitments_commitment", 'UPPER("details"::text)'),
    ("commitment_external_ref_trgm", "commitments_commitment", 'UPPER("external_ref"::text)'),
    ("customer_name_trgm", "commitments_customer", 'UPPER("name"::text)'),
    ("customer_email_trgm", "commitments_customer", 'UPPER("email"::text)'),
    ("customer_phone_trgm", "commitments_customer", '("phone"::text)'),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, expression in INDEXES:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ({expression} gin_trgm_ops)')


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _expression in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("commitments", "0002_api_idempotency_keys")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
