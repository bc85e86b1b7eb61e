"""A customer belongs to a team (schema, second half): the team is required, email and phone unique within it."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("commitments", "0006_customer_per_team"),
    ]

    operations = [
        migrations.AlterField(
            model_name="customer",
            name="team",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="customers", to="accounts.team"
            ),
        ),
        migrations.AddConstraint(
            model_name="customer",
            constraint=models.UniqueConstraint(
                condition=models.Q(("email", ""), _negated=True),
                fields=("team", "email"),
                name="customer_unique_email_per_team",
            ),
        ),
        migrations.AddConstraint(
            model_name="customer",
            constraint=models.UniqueConstraint(
                condition=models.Q(("phone", ""), _negated=True),
                fields=("team", "phone"),
                name="customer_unique_phone_per_team",
            ),
        ),
    ]
