"""Timeline events indexed by their staff actor only where they have one (``event_staff_actor``).

Only deleting a user looks events up by actor (to set it to null). The events a sweep writes by the
thousand (automatic updates, escalations) have no staff actor, and the full index took an entry for
each of them.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from followthrough.index_operations import AddIndexWithoutLock, DropForeignKeyIndexWithoutLock


class Migration(migrations.Migration):
    # The new index is built, and the old one dropped, without holding up writes
    # (followthrough.index_operations); the foreign key's constraint stays as it is.
    atomic = False
    dependencies = [
        ("commitments", "0019_dashboard_lists_from_the_team_status_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexWithoutLock(
            model_name="timelineevent",
            index=models.Index(
                condition=models.Q(("actor__isnull", False)), fields=["actor"], name="event_staff_actor"
            ),
        ),
        DropForeignKeyIndexWithoutLock(
            model_name="timelineevent",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
