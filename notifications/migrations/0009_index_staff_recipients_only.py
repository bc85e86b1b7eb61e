"""Messages indexed by their staff recipient only where they have one (``notification_staff_recipient``).

Customers' messages, which the sweeps write by the thousand, have no staff recipient, and the full
index took an entry for each of them. Lookups by a staff member (their digests, deleting a user)
name one, so they use the partial index.
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
        ("notifications", "0008_digest_without_commitment"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexWithoutLock(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("recipient_user__isnull", False)),
                fields=["recipient_user"],
                name="notification_staff_recipient",
            ),
        ),
        DropForeignKeyIndexWithoutLock(
            model_name="notification",
            name="recipient_user",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="notifications",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
