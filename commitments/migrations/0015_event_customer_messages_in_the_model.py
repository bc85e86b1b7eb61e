"""The index of each commitment's messages to the customer (0012), now declared in the model's Meta.

0012 created it with SQL on PostgreSQL only. Here the model's state learns of it, and PostgreSQL is
left as it is (the index is there, exactly as Django would write it: same columns, INCLUDE, WHERE),
so this costs no lock and no rebuild. Other databases (SQLite, a first run) get it now, without the
INCLUDE they do not support, so that the state and every database agree from here on.
"""

from django.db import migrations, models

INDEX = models.Index(
    condition=models.Q(("kind__in", ["created", "update_sent", "rescheduled", "waiting", "resumed", "missed"])),
    fields=["commitment", "created_at"],
    include=["kind"],
    name="event_customer_messages",
)


def create_elsewhere(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.add_index(apps.get_model("commitments", "TimelineEvent"), INDEX)


def drop_elsewhere(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.remove_index(apps.get_model("commitments", "TimelineEvent"), INDEX)


class Migration(migrations.Migration):
    dependencies = [("commitments", "0014_timeline_found_by_commitment_and_time")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="timelineevent", index=INDEX)],
            database_operations=[migrations.RunPython(create_elsewhere, drop_elsewhere)],
        )
    ]
