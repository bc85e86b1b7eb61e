"""API tokens hashed and expiring, secrets kept out of logs, old records pruned, the admin never a 500,
forged texts unable to starve a STOP, and a subject with a line break failing once for good."""

import logging
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from twilio.request_validator import RequestValidator

from accounts.api_tokens import digest_of, issue_api_token
from accounts.models import ApiToken
from commitments.models import ContactChange, Customer, IdempotentRequest
from followthrough.housekeeping import prune
from followthrough.log_redaction import RedactSecrets
from notifications.delivery import deliver
from notifications.models import DeliveryStatus, MessageKind, Notification
from tests.factories import PASSWORD, make_commitment
from tests.security.conftest import TeamA

pytestmark = pytest.mark.django_db


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_api_tokens_are_stored_hashed_and_expire(agent, settings):
    token = (
        APIClient()
        .post("/api/v1/auth/token/", {"username": "alex", "password": PASSWORD}, format="json")
        .json()["token"]
    )
    stored = ApiToken.objects.get(user=agent)
    assert stored.digest == digest_of(token) and token not in stored.digest
    assert with_token(token).get("/api/v1/teams/").status_code == 200
    with time_machine.travel(timezone.now() + settings.API_TOKEN_LIFETIME + timedelta(minutes=1)):
        assert with_token(token).get("/api/v1/teams/").status_code == 401
        assert prune().api_tokens == 1
    assert not ApiToken.objects.exists()


def test_a_password_change_revokes_every_api_token(agent):
    first, second = issue_api_token(user=agent), issue_api_token(user=agent)
    agent.set_password("a-new-long-password-2026")
    agent.save()
    for token in (first, second):
        assert with_token(token).get("/api/v1/teams/").status_code == 401
    # Saving the user without a new password leaves a new token alone
    third = issue_api_token(user=agent)
    agent.first_name = "Alexis"
    agent.save()
    assert with_token(third).get("/api/v1/teams/").status_code == 200


def test_idempotency_records_are_pruned_after_a_day(agent):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_api_token(user=agent)}")
    body = {
        "customer": {"name": "Dana", "email": "dana@example.com"},
        "summary": "S",
        "due_at": (timezone.now() + timedelta(days=1)).isoformat(),
    }
    assert client.post("/api/v1/commitments/", body, format="json", HTTP_IDEMPOTENCY_KEY="key-1").status_code == 201
    assert prune().idempotency_records == 0
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert prune().idempotency_records == 1
    assert not IdempotentRequest.objects.exists()


def test_unconfirmed_contact_changes_are_pruned_once_their_link_expired(team_a: TeamA):
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert Client().get(f"/s/contact/{team_a.contact_token}/").status_code == 404
        assert prune().contact_changes == 1
    assert not ContactChange.objects.exists()


def test_link_tokens_api_tokens_and_idempotency_keys_never_reach_the_logs(team_a: TeamA, caplog):
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", (f"/s/{team_a.status_token}/answer/",), None
    )
    RedactSecrets().filter(record)
    assert team_a.status_token not in record.getMessage()
    assert record.getMessage() == "Not Found: /s/[redacted]/answer/"
    for message in (
        f"Authorization: Token {issue_api_token(user=team_a.commitment.owner)}",
        "headers={'Idempotency-Key': 'order-8812-retry'}",
        f"GET /s/contact/{team_a.contact_token}/ HTTP/1.1",
    ):
        record = logging.LogRecord("x", logging.INFO, __file__, 1, message, (), None)
        RedactSecrets().filter(record)
        assert "[redacted]" in record.getMessage(), message
        assert "order-8812" not in record.getMessage() and team_a.contact_token not in record.getMessage()


def test_a_staff_users_refused_admin_save_is_a_message_not_a_500(agent, outsider, team_a: TeamA):
    from django.contrib.auth.models import Permission

    # Morgan (team B) is staff with the customer permissions, editing team A's customer anyway
    outsider.is_staff = True
    outsider.save()
    outsider.user_permissions.add(*Permission.objects.filter(codename__in=["view_customer", "change_customer"]))
    admin = Client()
    admin.force_login(outsider)
    path = f"/admin/commitments/customer/{team_a.customer.pk}/change/"
    body = {
        "name": "Hijacked",
        "email": "evil@example.com",
        "phone": "",
        "preferred_channel": "email",
        "timezone": "UTC",
        "notes": "",
        "commitments-TOTAL_FORMS": "0",
        "commitments-INITIAL_FORMS": "0",
    }
    response = admin.post(path, body)
    assert response.status_code in (302, 403, 404)
    assert Customer.objects.get(pk=team_a.customer.pk).name == "Dana Whitfield"
    # and the list shows only Morgan's team's customers
    listing = admin.get("/admin/commitments/customer/").content.decode()
    assert "Dana Whitfield" not in listing

    # Alex (team A) is staff too; a save the service refuses (the email of another of the team's
    # customers) comes back as a form error
    make_commitment(
        actor=agent,
        customer=__import__("tests.factories", fromlist=["x"]).customer_details(
            name="Ravi", email="ravi@example.com", phone=""
        ),
    )
    agent.is_staff = True
    agent.save()
    agent.user_permissions.add(*Permission.objects.filter(codename__in=["view_customer", "change_customer"]))
    admin.force_login(agent)
    refused = admin.post(path, {**body, "name": "Dana Whitfield", "email": "ravi@example.com"})
    assert refused.status_code == 200
    assert "belongs to another of the team" in refused.content.decode()


def test_forged_texts_do_not_use_up_the_bucket_a_real_stop_needs(settings, agent):
    settings.TWILIO_AUTH_TOKEN = "twilio-secret"
    settings.SITE_URL = "https://support.example.com"
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "customer": "3/min",
            "inbound": "3/min",
        },
    }
    commitment = make_commitment(actor=agent)
    fields = {"MessageSid": "SM1", "From": "+12025550123", "To": "+15555550100", "Body": "STOP"}
    hook = Client()
    # An attacker posts unsigned texts "from" Dana's number, many times
    for _ in range(10):
        forged = hook.post("/hooks/sms/twilio/", urlencode(fields), content_type="application/x-www-form-urlencoded")
        assert forged.status_code == 403
    # Dana's real STOP, signed by Twilio, still gets through
    signature = RequestValidator("twilio-secret").compute_signature(
        "https://support.example.com/hooks/sms/twilio/", fields
    )
    real = hook.post(
        "/hooks/sms/twilio/",
        urlencode(fields),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )
    assert real.status_code == 200
    assert Customer.objects.get(pk=commitment.customer_id).sms_opted_out is True


def test_a_subject_with_a_line_break_fails_once_for_good_and_the_owner_is_told(agent, mail_server):
    commitment = make_commitment(actor=agent)
    acknowledgement = Notification.objects.get(commitment=commitment, kind=MessageKind.ACKNOWLEDGEMENT)
    Notification.objects.filter(pk=acknowledgement.pk).update(subject="Your request\nBcc: everyone@example.com")
    deliver([acknowledgement.pk])
    acknowledgement.refresh_from_db()
    assert acknowledgement.status == DeliveryStatus.FAILED and acknowledgement.attempts == 1
    assert "cannot be sent as written" in acknowledgement.last_error
    # The owner is told, by an alert that itself gets through
    alert = Notification.objects.get(commitment=commitment, kind=MessageKind.ALERT, recipient=agent.email)
    deliver([alert.pk])
    alert.refresh_from_db()
    assert alert.status == DeliveryStatus.SENT
    assert mail_server.to(agent.email)
    assert not mail_server.to("everyone@example.com")
