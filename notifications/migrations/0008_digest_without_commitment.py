"""A lead's daily digest is about a team, not one commitment: its outbox row has none."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0010_dashboard_figures"),
        ("notifications", "0007_sweep_tick"),
    ]

    operations = [
        migrations.AlterField(
            model_name="notification",
            name="commitment",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="notifications",
                to="commitments.commitment",
            ),
        ),
    ]
