"""A customer belongs to a team: nothing one team does changes another team's customer (STOP aside)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.models import User
from commitments import services
from commitments.customer import services as customer_services
from commitments.models import Customer, TextOptOut
from notifications.models import Audience, MessageKind, Notification
from tests.api.conftest import client_for
from tests.factories import customer_details, make_commitment

pytestmark = pytest.mark.django_db


def test_another_team_logging_a_promise_with_our_customers_email_changes_nothing_of_ours(agent, outsider):
    ours = make_commitment(actor=agent, summary="Replace the boiler valve")
    # Team B logs a promise with Dana's email, its own phone, another name and texts
    theirs = make_commitment(
        actor=outsider,
        summary="Refund",
        customer=customer_details(name="Impostor", phone="+15555550199", preferred_channel="sms"),
    )

    # Then team B has a record of its own, and ours is as it was: our messages still go to Dana
    assert theirs.customer_id != ours.customer_id
    dana = Customer.objects.get(pk=ours.customer_id)
    assert (dana.name, dana.phone, dana.preferred_channel) == ("Dana Whitfield", "+12025550123", "email")
    services.send_update(actor=agent, commitment=ours, message="The part arrives tomorrow.")
    update = Notification.objects.filter(commitment=ours, kind=MessageKind.STATUS_UPDATE).get()
    assert update.recipient == "dana@example.com"


def test_the_create_answer_echoes_only_the_contacts_the_caller_gave(agent):
    make_commitment(actor=agent)  # Dana is on file with her email and phone
    body = {
        "customer": {"name": "Dana Whitfield", "email": "dana@example.com"},
        "summary": "Second promise",
        "due_at": (timezone.now() + timedelta(days=1)).isoformat(),
    }
    answer = client_for(agent).post("/api/v1/commitments/", body, format="json").json()
    assert answer["customer"]["email"] == "dana@example.com"
    assert answer["customer"]["phone"] == ""  # on file, but not given by this caller


def test_stop_applies_to_the_number_in_every_team_and_to_later_records(client, agent, outsider, settings):
    settings.TWILIO_AUTH_TOKEN = ""  # (the service itself; the hook's signature is tested elsewhere)
    ours = make_commitment(actor=agent, customer=customer_details(preferred_channel="sms"))
    theirs = make_commitment(actor=outsider, customer=customer_details(name="D. W.", preferred_channel="sms"))

    customer_services.receive_text(from_number="+12025550123", body="STOP")

    for commitment in (ours, theirs):
        assert Customer.objects.get(pk=commitment.customer_id).sms_opted_out is True
        # and each team's owner is told on their own commitment
        assert Notification.objects.filter(
            commitment=commitment, audience=Audience.STAFF, kind=MessageKind.ALERT
        ).exists()
    assert TextOptOut.objects.filter(phone="+12025550123").exists()
    # A third team meeting the number later starts with texts stopped
    from tests.factories import MembershipFactory, UserFactory

    newcomer: User = UserFactory(username="kim")  # type: ignore[assignment]
    MembershipFactory(user=newcomer)
    later = make_commitment(actor=newcomer, customer=customer_details(preferred_channel="sms"))
    assert Customer.objects.get(pk=later.customer_id).sms_opted_out is True
    acknowledgement = Notification.objects.get(commitment=later, kind=MessageKind.ACKNOWLEDGEMENT)
    assert acknowledgement.channel == "email"  # not a text to a number that said STOP
    # START resumes texts in every team
    customer_services.receive_text(from_number="+12025550123", body="START")
    assert not Customer.objects.filter(phone="+12025550123", sms_opted_out=True).exists()
    assert not TextOptOut.objects.exists()


def test_a_customers_private_notes_stay_in_their_team(client, agent, outsider):
    ours = make_commitment(actor=agent)
    services.edit_customer(
        actor=agent, customer=ours.customer, details=customer_details(), notes="Gate code 4417, dog in the yard"
    )
    theirs = make_commitment(actor=outsider, summary="Refund")
    client.force_login(outsider)
    page = client.get(f"/customers/{theirs.customer_id}/").content.decode()
    assert "Dana Whitfield" in page and "4417" not in page
    assert client.get(f"/customers/{ours.customer_id}/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_migration_makes_one_record_per_team_and_back(agent, outsider, request):
    """0006: a customer with promises in two teams becomes two records; backwards, one again."""

    def back_to_the_latest_schema() -> None:  # for the tests that follow, even when this one fails
        latest = MigrationExecutor(connection)
        latest.migrate(latest.loader.graph.leaf_nodes())

    request.addfinalizer(back_to_the_latest_schema)
    executor = MigrationExecutor(connection)
    executor.migrate([("commitments", "0005_customer_team")])
    old_apps = executor.loader.project_state([("commitments", "0005_customer_team")]).apps
    OldCustomer = old_apps.get_model("commitments", "Customer")
    OldCommitment = old_apps.get_model("commitments", "Commitment")
    Team = old_apps.get_model("accounts", "Team")
    team_a = Team.objects.get(memberships__user_id=agent.pk)
    team_b = Team.objects.get(memberships__user_id=outsider.pk)
    dana = OldCustomer.objects.create(
        name="Dana", email="dana@example.com", phone="+12025550123", sms_opted_out=True, notes="private"
    )
    OldCustomer.objects.create(name="Nobody", email="nobody@example.com")  # no promise: no team
    now = timezone.now()
    common = {"customer_id": dana.pk, "due_at": now, "update_interval": timedelta(hours=24)}
    first = OldCommitment.objects.create(
        team=team_a,
        owner_id=agent.pk,
        assignee_id=agent.pk,
        summary="A",
        status_token_nonce="a",
        status_token_hash="a",
        created_at=now,
        **common,
    )
    second = OldCommitment.objects.create(
        team=team_b,
        owner_id=outsider.pk,
        assignee_id=outsider.pk,
        summary="B",
        status_token_nonce="b",
        status_token_hash="b",
        created_at=now + timedelta(seconds=1),
        **common,
    )

    executor = MigrationExecutor(connection)
    executor.migrate([("commitments", "0007_customer_team_required")])
    # Read with the models as they stood then: later migrations add columns these rows lack yet.
    then = executor.loader.project_state([("commitments", "0007_customer_team_required")]).apps
    CustomerThen = then.get_model("commitments", "Customer")
    TextOptOutThen = then.get_model("commitments", "TextOptOut")
    CommitmentThen = then.get_model("commitments", "Commitment")
    records = list(CustomerThen.objects.filter(email="dana@example.com").order_by("pk"))
    assert [(record.team_id, record.notes) for record in records] == [(team_a.pk, "private"), (team_b.pk, "")]
    assert all(record.sms_opted_out for record in records)
    assert TextOptOutThen.objects.filter(phone="+12025550123").exists()
    assert not CustomerThen.objects.filter(email="nobody@example.com").exists()

    assert CommitmentThen.objects.get(pk=first.pk).customer_id == records[0].pk
    assert CommitmentThen.objects.get(pk=second.pk).customer_id == records[1].pk

    # Backwards: one record again, both promises on it
    executor = MigrationExecutor(connection)
    executor.migrate([("commitments", "0005_customer_team")])
    back = executor.loader.project_state([("commitments", "0005_customer_team")]).apps
    assert back.get_model("commitments", "Customer").objects.filter(email="dana@example.com").count() == 1
