"""A customer belongs to a team (data): one record per team that has commitments for each customer.

Each customer keeps their record in the team of their oldest commitment; every other team with
commitments for them gets a copy (name, contacts, preferences, opt-outs; private notes stay with
the first team's record, since they were written by no one knows which team) and its commitments
are repointed to it. A number whose record had texts stopped keeps them stopped in every copy, and
is recorded as such (STOP is about the number). A customer with no commitment at all belongs to no
team and nothing shows them, so they are removed.

Backwards: the copies are folded into the oldest record again (commitments repointed) and the
team column is emptied.
"""

from django.db import migrations

COPIED = ("name", "email", "phone", "preferred_channel", "timezone", "sms_opted_out", "email_updates_opted_out")


def one_record_per_team(apps, schema_editor):
    Customer = apps.get_model("commitments", "Customer")
    Commitment = apps.get_model("commitments", "Commitment")
    TextOptOut = apps.get_model("commitments", "TextOptOut")
    Customer.objects.filter(commitments__isnull=True).delete()
    for customer in Customer.objects.filter(team__isnull=True).order_by("pk").iterator():
        team_ids = list(
            Commitment.objects.filter(customer_id=customer.pk)
            .order_by("created_at", "pk")
            .values_list("team_id", flat=True)
        )
        ordered = list(dict.fromkeys(team_ids))
        customer.team_id = ordered[0]
        customer.save(update_fields=["team"])
        for team_id in ordered[1:]:
            copy = Customer.objects.create(
                team_id=team_id, created_at=customer.created_at, **{field: getattr(customer, field) for field in COPIED}
            )
            Commitment.objects.filter(customer_id=customer.pk, team_id=team_id).update(customer_id=copy.pk)
        if customer.sms_opted_out and customer.phone:
            TextOptOut.objects.get_or_create(phone=customer.phone)


def one_record_per_person(apps, schema_editor):
    Customer = apps.get_model("commitments", "Customer")
    Commitment = apps.get_model("commitments", "Commitment")
    kept: dict[str, int] = {}
    for customer in Customer.objects.order_by("pk").iterator():
        keys = [f"email:{customer.email}"] if customer.email else []
        if customer.phone:
            keys.append(f"phone:{customer.phone}")
        first = next((kept[key] for key in keys if key in kept), None)
        if first is None:
            for key in keys:
                kept[key] = customer.pk
            continue
        Commitment.objects.filter(customer_id=customer.pk).update(customer_id=first)
        customer.delete()
    Customer.objects.update(team=None)


class Migration(migrations.Migration):
    dependencies = [("commitments", "0005_customer_team")]

    operations = [migrations.RunPython(one_record_per_team, one_record_per_person)]
