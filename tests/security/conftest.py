"""Two teams and what an attacker would aim at: team A's promise, customer, call task and links.

Alex is an agent of team A ("Home Repairs"); Morgan is an agent of team B ("Billing"), signed in
and trying every door into team A's data.
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from commitments.customer import services as customer_services
from commitments.models import Commitment, ContactChange, Customer
from commitments.status_links import token_for, unsubscribe_token
from notifications.models import DeliveryStatus, MessageKind, Notification
from tests.factories import customer_details, make_commitment

# What only team A may see: a stranger's or team B's answer must never contain any of these.
A_SECRETS = ("Replace the boiler valve", "Dana Whitfield", "dana@example.com", "+12025550123", "gate code 4417")


@dataclass
class TeamA:
    commitment: Commitment
    customer: Customer
    call_task: Notification
    status_token: str
    unsubscribe_token: str
    contact_token: str


@pytest.fixture
def team_a(agent, lead, outsider) -> TeamA:
    commitment = make_commitment(
        actor=agent,
        summary="Replace the boiler valve",
        customer=customer_details(preferred_channel="email"),
        due_at=timezone.now() + timedelta(days=2),
    )
    customer = commitment.customer
    customer.notes = "gate code 4417"
    customer.save(update_fields=["notes"])
    call_task = Notification.objects.create(
        commitment=commitment,
        kind=MessageKind.CALL_TASK,
        channel="phone",
        audience="staff",
        recipient=agent.email,
        recipient_user=agent,
        subject="Call Dana",
        body="Call Dana about the valve.",
        status=DeliveryStatus.SENT,
        idempotency_key=f"{commitment.pk}:call_task:security",
    )
    # A contact change waiting for confirmation, so its link's route has a real token to aim at.
    customer_services.change_preferences(
        commitment=commitment,
        preferences=customer_services.ContactPreferences(
            preferred_channel="email",
            email="dana.new@example.com",
            phone=customer.phone,
            texts_allowed=True,
            email_updates=True,
        ),
    )
    check = Notification.objects.get(commitment=commitment, kind=MessageKind.CONTACT_CHECK)
    contact_token = check.body.split("/s/contact/")[1].split("/")[0]
    assert ContactChange.objects.filter(customer=customer, confirmed_at__isnull=True).exists()
    commitment.refresh_from_db()
    return TeamA(
        commitment=commitment,
        customer=customer,
        call_task=call_task,
        status_token=token_for(commitment.status_token_nonce),
        unsubscribe_token=unsubscribe_token(commitment),
        contact_token=contact_token,
    )


@pytest.fixture
def team_b_promise(outsider: User) -> Commitment:
    """Morgan's own promise in team B, to a customer with Dana's email: another team's record."""
    return make_commitment(
        actor=outsider,
        summary="Refund the double charge",
        customer=customer_details(name="D. Whitfield", phone="+15555550199", preferred_channel="sms"),
    )
