"""A customer belongs to a team (schema, first half): the column, nullable until every row has its team.

0006 makes one record per team that has commitments for each customer; 0007 then requires the
team and puts the uniqueness of email and phone inside each team. Also the per-number STOP record.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("commitments", "0004_commitment_list_indexes"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="customer", name="customer_unique_email"),
        migrations.RemoveConstraint(model_name="customer", name="customer_unique_phone"),
        migrations.AddField(
            model_name="customer",
            name="team",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="customers", to="accounts.team"
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["phone"], name="customer_phone"),
        ),
        migrations.CreateModel(
            name="TextOptOut",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("phone", models.CharField(help_text="E.164.", max_length=20, unique=True)),
                ("keyword", models.CharField(default="STOP", max_length=20)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
    ]
