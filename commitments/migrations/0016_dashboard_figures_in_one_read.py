"""The dashboard reads each commitment of its figures once, from indexes alone.

``commitment_team_figures`` also carries the update interval ("updates on time" compares with it),
so the figures no longer visit the commitments' rows. ``event_dashboard_figures`` holds a
commitment's messages to the customer and its "chased" and "reopened" events together, so one
look-up per commitment answers all of them; it replaces ``event_customer_messages`` (0012), which
held the messages only.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("commitments", "0015_event_customer_messages_in_the_model")]

    operations = [
        migrations.AddIndex(
            model_name="timelineevent",
            index=models.Index(
                condition=models.Q(
                    (
                        "kind__in",
                        ["created", "update_sent", "rescheduled", "waiting", "resumed", "missed", "chased", "reopened"],
                    )
                ),
                fields=["commitment", "created_at"],
                include=("kind", "actor_label"),
                name="event_dashboard_figures",
            ),
        ),
        migrations.RemoveIndex(model_name="timelineevent", name="event_customer_messages"),
        migrations.RemoveIndex(model_name="commitment", name="commitment_team_figures"),
        migrations.AddIndex(
            model_name="commitment",
            index=models.Index(
                fields=["team", "created_at"],
                include=(
                    "id",
                    "owner",
                    "customer",
                    "status",
                    "due_at",
                    "promised_at",
                    "fulfilled_at",
                    "next_update_at",
                    "update_interval",
                ),
                name="commitment_team_figures",
            ),
        ),
    ]
