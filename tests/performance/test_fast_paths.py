"""What was written out by hand for speed says exactly what the general machinery says."""

import copy
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from accounts.models import Team
from commitments import services, status_links
from commitments.api.serializers import CommitmentCreateSerializer, CommitmentSerializer, CustomerInputSerializer
from commitments.models import Commitment, CommitmentSearchText, Customer, TimelineEvent
from commitments.services import lifecycle
from followthrough import kept_statements
from notifications.models import Notification
from tests.factories import customer_details, make_commitment

pytestmark = pytest.mark.django_db


def test_the_api_writes_a_commitment_as_drf_would_field_by_field(agent, colleague):
    # Given commitments in several states: handed off, waiting, fulfilled, with a target, upset, cancelled
    now = timezone.now()
    handed = make_commitment(actor=agent, target_at=now + timedelta(days=1), temperature="upset")
    services.hand_off(actor=agent, commitment=handed, assignee=colleague)
    waiting = make_commitment(actor=agent, customer=customer_details(email="w@example.com", phone="", language="es"))
    services.wait_on_customer(actor=agent, commitment=waiting, request="The serial number, please.")
    done = make_commitment(actor=agent, customer=customer_details(email="", preferred_channel="sms"))
    services.fulfil(actor=agent, commitment=done, resolution="Sent.")
    cancelled = make_commitment(actor=agent, customer=customer_details(email="c@example.com", phone=""))
    services.cancel(actor=agent, commitment=cancelled, reason="Asked twice.")

    for zone in ("UTC", "America/New_York"):
        with timezone.override(zone):
            for commitment in Commitment.objects.select_related("customer").order_by("pk"):
                # Then the answer is the same JSON, key for key and byte for byte
                serializer = CommitmentSerializer(commitment)
                general = serializers.ModelSerializer.to_representation(serializer, commitment)
                assert list(serializer.data) == CommitmentSerializer.Meta.fields
                assert JSONRenderer().render(serializer.data) == JSONRenderer().render(general)


# --- Logging a promise with kept statements (followthrough.kept_statements) -------------------

WRITTEN_BY_A_PROMISE = (Customer, Commitment, CommitmentSearchText, TimelineEvent, Notification)
NUMBERED = [Customer, Commitment, TimelineEvent, Notification]  # (the search words take the commitment's id)
PROMISES = {
    "a new customer by email": {
        "customer": {"name": "Dana", "email": "Dana@Example.com", "preferred_channel": "email", "timezone": "UTC"},
        "summary": "Send the repair estimate",
        "due_at": "2099-01-01T12:00:00+01:00",
    },
    "a new customer by text, upset, in Spanish": {
        "customer": {
            "name": "Priya",
            "phone": "(415) 555-0178",
            "preferred_channel": "sms",
            "timezone": "America/Los_Angeles",
            "language": "es",
        },
        "summary": "Confirm the technician's window",
        "details": "Thursday, morning or afternoon.",
        "external_ref": "RMA-4411",
        "update_interval": "12h",
        "temperature": "upset",
        "due_at": "2099-01-02T09:30:00-08:00",
    },
    "a call the owner must make": {
        "customer": {"name": "Tomás", "phone": "+13125550110", "preferred_channel": "phone", "timezone": "UTC"},
        "summary": "Call back with the warranty decision",
        "due_at": "2099-01-03T15:00:00Z",
    },
    "a customer the team already has": {
        "customer": {
            "name": "Grace Lin",
            "email": "grace@example.com",
            "phone": "+16175550199",
            "preferred_channel": "email",
            "timezone": "Europe/London",
        },
        "summary": "Refund the duplicate charge",
        "due_at": "2099-01-04T10:00:00+00:00",
    },
}


@pytest.mark.parametrize("promise", list(PROMISES))
def test_a_promise_logged_with_kept_statements_writes_and_answers_what_the_orm_does(
    promise, agent, colleague, team, monkeypatch, time_machine
):
    # Given a team with a holiday and a customer on file, a fixed moment and a fixed status link
    from accounts.models import Holiday

    Holiday.objects.create(team=team, date="2099-12-25", name="Christmas")
    make_commitment(
        actor=colleague, customer=customer_details(name="Grace", email="grace@example.com", phone="+16175550199")
    )
    time_machine.move_to("2098-06-01 14:00:00Z", tick=False)
    monkeypatch.setattr(status_links, "new_nonce", lambda: "5e" * 32)
    api = APIClient()
    api.force_authenticate(agent)
    body = {**PROMISES[promise], "team": team.pk}

    sequences = [f"pg_get_serial_sequence('{model._meta.db_table}', 'id')" for model in NUMBERED]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(f'nextval({sequence})' for sequence in sequences)}")
        first_ids = [next_id + 100 for next_id in cursor.fetchone()]

    def logged() -> tuple[bytes, dict[str, list[Any]]]:
        # Each time from the same ids, and undone afterwards, so that both ways write the same rows.
        with transaction.atomic():
            with connection.cursor() as cursor:
                for sequence, first_id in zip(sequences, first_ids, strict=True):
                    cursor.execute(f"SELECT setval({sequence}, %s, false)", [first_id])
            response = api.post("/api/v1/commitments/", body, format="json")
            assert response.status_code == 201, response.content
            rows = {model.__name__: list(model.objects.order_by("pk").values()) for model in WRITTEN_BY_A_PROMISE}
            transaction.set_rollback(True)
        return response.content, rows

    # When the promise is logged with the kept statements, and then as the ORM writes it
    kept = logged()
    monkeypatch.setattr(kept_statements, "in_use", lambda: False)
    orm = logged()

    # Then the answer is the same to the byte, and so is every row written
    assert kept[0] == orm[0]
    assert kept[1] == orm[1]
    logged_id = first_ids[NUMBERED.index(Commitment)]
    assert kept[1]["Commitment"][-1]["id"] == logged_id
    assert kept[1]["Notification"][-1]["idempotency_key"].startswith(f"{logged_id}:acknowledgement:")


def test_the_team_is_read_with_its_members_and_holidays_as_the_orm_reads_it(agent, team, outsider, monkeypatch):
    # Given a team with holidays, its own message templates, and someone from another team
    from accounts.models import Holiday

    Holiday.objects.create(team=team, date="2099-12-25", name="Christmas")
    Holiday.objects.create(team=team, date="2099-01-01", name="New Year")
    team.message_templates = {"acknowledgement": 7}
    team.save()

    # When the team is read for the two of them with the kept statement, and by the ORM
    kept = lifecycle._team_members_and_holidays(team.pk, people={agent.pk, outsider.pk})
    monkeypatch.setattr(kept_statements, "in_use", lambda: False)
    orm = lifecycle._team_members_and_holidays(team.pk, people={agent.pk, outsider.pk})

    # Then both read the same team, the same one member, and the holidays in order
    assert [getattr(kept[0], f.attname) for f in Team._meta.concrete_fields] == [
        getattr(orm[0], f.attname) for f in Team._meta.concrete_fields
    ]
    assert kept[0].message_templates == {"acknowledgement": 7}
    assert kept[1] == orm[1] == {agent.pk}
    assert kept[2] == orm[2] == [date(2099, 1, 1), date(2099, 12, 25)]


def test_a_team_that_is_not_there_is_named_as_the_orm_names_it(agent):
    with pytest.raises(Team.DoesNotExist):
        lifecycle._team_members_and_holidays(999_999, people={agent.pk})


# --- Checking a create's body with shallow copies of its fields (FieldsCopiedShallowly) -------

BODIES = [
    {**PROMISES["a new customer by email"], "team": 1},
    {**PROMISES["a new customer by text, upset, in Spanish"], "owner": 1, "target_at": "2099-01-01T09:00:00Z"},
    {"customer": {"name": "", "preferred_channel": "pigeon", "timezone": 5}, "summary": 3, "due_at": "tomorrow"},
    {"customer": "Dana", "summary": "x" * 301, "team": "seven", "update_interval": "soon", "temperature": "cold"},
    {"summary": "Send it", "due_at": "2099-01-01T12:00:00", "team": True, "owner": 999_999},
    {},
]


@pytest.mark.parametrize("body", BODIES)
def test_a_create_body_is_checked_as_with_deep_copied_fields(body, agent):
    # Given DRF's own way of copying the declared fields, deep
    def deep_fields(self):
        return copy.deepcopy(self._declared_fields)

    # When a body is checked with shallow copies, and with deep ones
    shallow = CommitmentCreateSerializer(data=body)
    shallow_valid = shallow.is_valid()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CommitmentCreateSerializer, "get_fields", deep_fields)
        patch.setattr(CustomerInputSerializer, "get_fields", deep_fields)
        deep = CommitmentCreateSerializer(data=body)
        deep_valid = deep.is_valid()

    # Then both say the same: the same values, or the same errors with the same codes
    assert shallow_valid == deep_valid
    assert shallow.validated_data == deep.validated_data
    assert JSONRenderer().render(shallow.errors) == JSONRenderer().render(deep.errors)
    assert shallow.errors == deep.errors


def test_each_body_checked_has_fields_of_its_own():
    # Given two create bodies checked one after the other
    first = CommitmentCreateSerializer(data=BODIES[0])
    second = CommitmentCreateSerializer(data=BODIES[-1])
    first.is_valid()
    second.is_valid()

    # Then no field (nor the customer's nested ones) is shared or bound to the other, nor the declared ones
    for name, field in first.fields.items():
        assert field is not second.fields[name] and field is not CommitmentCreateSerializer._declared_fields[name]
        assert field.parent is first and second.fields[name].parent is second
    first_customer, second_customer = first.fields["customer"], second.fields["customer"]
    assert isinstance(first_customer, CustomerInputSerializer) and isinstance(second_customer, CustomerInputSerializer)
    for name, field in first_customer.fields.items():
        assert field is not second_customer.fields[name] and field.parent is first_customer


def test_only_flat_fields_are_copied_shallowly():
    from followthrough.api.fields import FieldsCopiedShallowly

    # Given an input serializer with a flat field, a list (its child binds to its parent), a
    # field with a default that can change in place, and a nested serializer
    class Nested(serializers.Serializer):
        note = serializers.CharField()

    class Body(FieldsCopiedShallowly):
        name = serializers.CharField(default="")
        tags = serializers.ListField(child=serializers.CharField())
        extra = serializers.JSONField(default=dict)
        options = serializers.DictField(default={"a": 1})
        nested = Nested()

    # When two bodies are checked
    first, second = Body(data={"tags": ["x"], "nested": {"note": "n"}}), Body(data={"tags": [], "nested": {}})
    first.is_valid()
    second.is_valid()

    # Then every field, and every list's child, is the serializer's own, bound to it
    declared = Body._declared_fields
    for name in declared:
        assert first.fields[name] is not second.fields[name] and first.fields[name] is not declared[name]
    first_tags, second_tags = first.fields["tags"], second.fields["tags"]
    assert isinstance(first_tags, serializers.ListField) and isinstance(second_tags, serializers.ListField)
    assert first_tags.child is not second_tags.child and first_tags.child.parent is first_tags
    # and a default that can change in place is not shared between requests (a plain string may be)
    assert first.fields["options"].default is not second.fields["options"].default
    assert first.fields["name"].default == second.fields["name"].default == ""


def test_a_kept_insert_that_fails_marks_its_transaction_for_rollback_as_save_does(agent):
    from django.db import IntegrityError

    # Given a commitment, whose search words are written already
    commitment = make_commitment(actor=agent)
    words = CommitmentSearchText(commitment_id=commitment.pk, summary="again", details="", external_ref="")

    # When a second row of its words is inserted, and the error caught
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            kept_statements.insert(words)
        # Then the transaction knows it must roll back, as after save(): a query now would fail
        # with Django's own error, not PostgreSQL's "current transaction is aborted"
        assert transaction.get_rollback()
    assert CommitmentSearchText.objects.get(commitment_id=commitment.pk).summary == commitment.summary
