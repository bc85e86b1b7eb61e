"""No index on who logged a commitment (``created_by``): no page, API call or sweep looks commitments
up by it (only deleting a user does, to set it to null), and every sweep that moves a commitment
would write an entry in it for each row, as in every other index of the table (0013, 0017).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0017_search_text_apart_from_commitments"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="commitment",
            name="created_by",
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
