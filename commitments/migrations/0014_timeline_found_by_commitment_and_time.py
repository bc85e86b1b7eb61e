"""A commitment's timeline is found by ``event_commitment_time`` (commitment, created_at), which starts
with the commitment: the foreign key's own index only doubled every insert (the sweeps write
thousands of events a batch)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0013_fewer_commitment_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="timelineevent",
            name="commitment",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="commitments.commitment",
            ),
        ),
    ]
