"""A customer belongs to a team (schema, first half): the column, nullable until every row has its team.

0006 makes one record per team that has commitments for each customer; 0007 then requires the
team and puts the uniqueness of email and phone inside each team. Also the per-number STOP record, and the
contact changes a customer confirms from their new address.
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
        migrations.CreateModel(
            name="ContactChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "field",
                    models.CharField(choices=[("email", "Email address"), ("phone", "Phone number")], max_length=10),
                ),
                ("value", models.CharField(max_length=254)),
                (
                    "then_channel",
                    models.CharField(
                        blank=True,
                        choices=[("email", "Email"), ("sms", "Text message"), ("phone", "Phone call")],
                        max_length=10,
                    ),
                ),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("confirmed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "commitment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="commitments.commitment"
                    ),
                ),
                (
                    "customer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="contact_changes",
                        to="commitments.customer",
                    ),
                ),
            ],
        ),
    ]
