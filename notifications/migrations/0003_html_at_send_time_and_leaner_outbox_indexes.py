# The outbox keeps a small ``layout`` per email and draws the HTML at send time, instead of storing
# a few kilobytes of markup per row; and it drops two indexes every insert paid for and no query
# used: the commitment's own (notification_commitment_time starts with it) and the pattern index
# ``unique=True`` puts on a CharField (the key is only ever looked up whole).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0001_initial"),
        ("notifications", "0002_call_task_follow_up"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="layout",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AlterField(
            model_name="notification",
            name="commitment",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="notifications",
                to="commitments.commitment",
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="idempotency_key",
            field=models.CharField(max_length=200),
        ),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.UniqueConstraint(fields=("idempotency_key",), name="notification_unique_idempotency_key"),
        ),
    ]
