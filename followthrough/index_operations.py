"""Index changes that never hold up the writes to a busy table: CONCURRENTLY, on PostgreSQL.

A plain CREATE INDEX stops every write to its table (a sweep's batch, a promise being logged)
until the index is built: seconds at a million commitments, while the previous release still
serves. Built CONCURRENTLY, the writes go on. SQLite, the first run's database, has neither the
statement nor the size: there the plain operations run. A migration using these sets
``atomic = False``, as PostgreSQL builds them outside a transaction; each step is safe to run
again, so a migration stopped half-way (a deploy cancelled) finishes when ``migrate`` runs again.
"""

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations
from django.db.migrations.operations.base import Operation
from django.db.models import Index


def _on_postgresql(schema_editor: Any) -> bool:
    return bool(schema_editor.connection.vendor == "postgresql")


def _index_is_valid(schema_editor: Any, name: str) -> bool | None:
    """Whether PostgreSQL holds this index whole (None: no such index).

    A CONCURRENTLY build that failed or was cancelled leaves an invalid index under its name,
    which answers nothing and stops the next try with "already exists".
    """
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND pg_table_is_visible(c.oid)",
            [name],
        )
        row = cursor.fetchone()
    return None if row is None else bool(row[0])


class _PlainElsewhere:
    """On PostgreSQL the CONCURRENTLY operation it is mixed into; elsewhere the plain one."""

    plain: type[Operation]

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if _on_postgresql(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)  # type: ignore[misc]
        else:
            self.plain.database_forwards(self, app_label, schema_editor, from_state, to_state)  # type: ignore[arg-type]

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if _on_postgresql(schema_editor):
            super().database_backwards(app_label, schema_editor, from_state, to_state)  # type: ignore[misc]
        else:
            self.plain.database_backwards(self, app_label, schema_editor, from_state, to_state)  # type: ignore[arg-type]


class AddIndexWithoutLock(_PlainElsewhere, AddIndexConcurrently):
    plain = migrations.AddIndex

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if _on_postgresql(schema_editor):
            valid = _index_is_valid(schema_editor, self.index.name)
            if valid:
                return  # Built by an earlier try of this migration.
            if valid is False:
                name = schema_editor.quote_name(self.index.name)
                schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        super().database_forwards(app_label, schema_editor, from_state, to_state)


class RemoveIndexWithoutLock(_PlainElsewhere, RemoveIndexConcurrently):
    # On PostgreSQL: DROP INDEX CONCURRENTLY IF EXISTS, so a second try passes over it.
    plain = migrations.RemoveIndex


class DropForeignKeyIndexWithoutLock(migrations.AlterField):
    """A foreign key's own index dropped (``db_index=False``), its constraint left as it is.

    Django's AlterField would drop the foreign key's constraint and add it back, checking every
    row of the table under a lock that holds up its writes; only the index needs to go, and it
    goes CONCURRENTLY. ``field`` is the foreign key as it is after (``db_index=False``).
    """

    atomic = False

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if not _on_postgresql(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        column = model._meta.get_field(self.name).column
        declared = {index.name for index in model._meta.indexes}
        for name in schema_editor._constraint_names(model, [column], index=True, type_=Index.suffix, exclude=declared):
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(name)}")

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if not _on_postgresql(schema_editor):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        statement = schema_editor._create_index_sql(model, fields=[field], concurrently=True)
        if _index_is_valid(schema_editor, str(statement.parts["name"]).strip('"')) is None:
            schema_editor.execute(statement)
