"""What was written out by hand for speed says exactly what the general machinery says."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from commitments import services
from commitments.api.serializers import CommitmentSerializer
from commitments.models import Commitment
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
