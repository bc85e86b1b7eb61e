"""The dashboard's "updates on time" reads each commitment's messages to the customer in time order:
a partial covering index makes that an index-only scan (no visit to the event rows).

Created with SQL on PostgreSQL only (its INCLUDE columns and the partial condition), so the model's
state is unchanged: the index serves one query and is not a constraint of the model.
"""

from django.db import migrations

CUSTOMER_MESSAGE_KINDS = ("created", "update_sent", "rescheduled", "waiting", "resumed", "missed")


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    kinds = ", ".join(f"'{kind}'" for kind in CUSTOMER_MESSAGE_KINDS)
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS event_customer_messages ON commitments_timelineevent "
        f"(commitment_id, created_at) INCLUDE (kind) WHERE kind IN ({kinds})"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS event_customer_messages")


class Migration(migrations.Migration):
    dependencies = [("commitments", "0011_team_list_covering_index")]

    operations = [migrations.RunPython(create_index, drop_index)]
