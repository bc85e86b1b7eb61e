"""The first promised due time (for the dashboard's promise accuracy) and an index for recent replies.

Existing commitments get the due time their "created" event recorded: the first one promised.
"""

from typing import Any

from django.conf import settings
from django.db import migrations, models

BACKFILL_SQL = """
UPDATE commitments_commitment AS c
SET promised_at = (e.data ->> 'due_at')::timestamptz
FROM commitments_timelineevent AS e
WHERE e.commitment_id = c.id AND e.kind = 'created' AND e.data ? 'due_at' AND c.promised_at IS NULL
"""


def first_promises(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKFILL_SQL)
        return
    from datetime import datetime

    commitment_model = apps.get_model("commitments", "Commitment")
    event_model = apps.get_model("commitments", "TimelineEvent")
    for event in event_model.objects.filter(kind="created").only("commitment_id", "data").iterator():
        due = (event.data or {}).get("due_at")
        if due:
            commitment_model.objects.filter(pk=event.commitment_id, promised_at__isnull=True).update(
                promised_at=datetime.fromisoformat(due)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0009_commitment_temperature_and_glossary"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="commitment",
            name="promised_at",
            field=models.DateTimeField(blank=True, help_text="The first due time given to the customer.", null=True),
        ),
        migrations.AddIndex(
            model_name="timelineevent",
            index=models.Index(
                condition=models.Q(("kind", "customer_reply")), fields=["created_at"], name="event_customer_reply"
            ),
        ),
        migrations.AddIndex(
            model_name="timelineevent",
            index=models.Index(
                condition=models.Q(("kind__in", ["chased", "reopened"])),
                fields=["kind", "commitment", "actor_label"],
                name="event_chased_reopened",
            ),
        ),
        migrations.RemoveIndex(model_name="commitment", name="commitment_team_created"),
        migrations.AddIndex(
            model_name="commitment",
            index=models.Index(
                fields=["team", "created_at"],
                include=[
                    "id",
                    "owner",
                    "customer",
                    "status",
                    "due_at",
                    "promised_at",
                    "fulfilled_at",
                    "next_update_at",
                ],
                name="commitment_team_figures",
            ),
        ),
        migrations.RunPython(first_promises, migrations.RunPython.noop),
    ]
