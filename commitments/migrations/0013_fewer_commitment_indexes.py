"""Fewer indexes on commitments: every sweep moves a commitment's times, and PostgreSQL writes an entry
in every index of the table for each row it moves (those columns are indexed, so no update is HOT).

- team, owner and assignee lose their single-column indexes: ``commitment_team_due``,
  ``commitment_owner_status`` and ``commitment_assignee_status`` start with the same column and
  answer the same look-ups.
- ``status_token_hash`` loses the ``varchar_pattern_ops`` copy Django makes for ``LIKE`` on a
  unique text column: a status link is found by equality (its unique index), never by a prefix.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

LIKE_INDEX = "commitments_commitment_status_token_hash_2beb6c32_like"


def drop_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{LIKE_INDEX}"')


def restore_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{LIKE_INDEX}" ON "commitments_commitment" '
            '("status_token_hash" varchar_pattern_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_team_writing_settings"),
        ("commitments", "0012_event_customer_messages_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="commitment",
            name="assignee",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="assigned_commitments",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="commitment",
            name="owner",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="owned_commitments",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="commitment",
            name="team",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="commitments",
                to="accounts.team",
            ),
        ),
        migrations.RunPython(drop_like_index, restore_like_index),
    ]
