"""The product as an operator runs it and an integrator drives it.

gunicorn, two Celery workers and two beats run as separate processes with every FOLLOWTHROUGH_*
duration in seconds, against PostgreSQL, Redis, a real SMTP server and an SMS webhook. Promises are
logged and kept through the REST API only. Every message that reaches the mail server and the SMS
endpoint arrives once, and what arrived agrees with the notifications and timeline the API reports.
"""

from collections import Counter
from contextlib import ExitStack
from datetime import timedelta

import pytest
import requests
from django.contrib.auth.hashers import make_password
from django.test import override_settings
from django.utils import timezone

from tests import live

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

PASSWORD = "end-to-end-password"
ENGINE = {
    "FOLLOWTHROUGH_SWEEP_INTERVAL": "1s",
    "FOLLOWTHROUGH_UPDATE_INTERVAL": "6s",
    "FOLLOWTHROUGH_ESCALATE_BEFORE": "8s,4s",
    "FOLLOWTHROUGH_SATISFACTION_AFTER": "3s",
    "FOLLOWTHROUGH_DELIVERY_LEASE": "10s",
}


class Api:
    def __init__(self, base_url: str, username: str) -> None:
        self.base_url = base_url
        answer = requests.post(
            f"{base_url}/api/v1/auth/token/", json={"username": username, "password": PASSWORD}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        self.headers = {"Authorization": f"Token {answer.json()['token']}"}

    def post(self, path: str, body: dict, expect: int = 200) -> dict:
        answer = requests.post(f"{self.base_url}/api/v1/{path}", json=body, headers=self.headers, timeout=10)
        assert answer.status_code == expect, answer.text
        return answer.json()

    def get(self, path: str) -> dict:
        answer = requests.get(f"{self.base_url}/api/v1/{path}", headers=self.headers, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def every(self, path: str) -> list[dict]:
        page, results = self.get(path), []
        results += page["results"]
        while page["next"]:
            answer = requests.get(page["next"], headers=self.headers, timeout=10)
            page = answer.json()
            results += page["results"]
        return results


def in_seconds(seconds: float) -> str:
    return (timezone.now() + timedelta(seconds=seconds)).isoformat()


def test_promises_logged_through_the_api_reach_customers_and_staff_once(
    tmp_path, mail_server, sms_webhook, agent, lead
):
    # Given staff who log in with real passwords, and the whole app running as its processes
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"]):
        for person in (agent, lead):
            person.password = make_password(PASSWORD)
            person.save(update_fields=["password"])
    live.purge_broker()
    env = {**ENGINE, "EMAIL_URL": mail_server.url, "SMS_BACKEND": "webhook", "SMS_WEBHOOK_URL": sms_webhook.url}
    zone = live.daytime_zone_now()  # So no text waits for the customer's morning.

    with ExitStack() as processes:
        base_url = processes.enter_context(live.gunicorn_web(tmp_path, **env))
        for name in ("worker1", "worker2"):
            processes.enter_context(live.celery_worker(tmp_path, name, **env))
        for name in ("beat1", "beat2"):
            processes.enter_context(live.celery_beat(tmp_path, name, **env))
        api = Api(base_url, agent.username)

        # When the agent logs one promise to an emailing customer and one to a texting customer
        by_email = api.post(
            "commitments/",
            {
                "customer": {
                    "name": "Dana Whitfield",
                    "email": "dana@example.com",
                    "preferred_channel": "email",
                    "timezone": zone,
                },
                "summary": "Send the repair estimate",
                "due_at": in_seconds(30),
            },
            expect=201,
        )
        by_text = api.post(
            "commitments/",
            {
                "customer": {
                    "name": "Priya Raman",
                    "phone": "+15555550142",
                    "preferred_channel": "sms",
                    "timezone": zone,
                },
                "summary": "Confirm the technician's arrival window",
                "due_at": in_seconds(12),
            },
            expect=201,
        )
        assert by_email["status"] == "open" and by_email["status_url"].startswith(f"{base_url}/s/")

        # ... sends the texting customer an update of their own, and fulfils the emailed promise
        live.wait_for(lambda: mail_server.to("dana@example.com"), timeout=20, message="Dana's acknowledgement")
        api.post(f"commitments/{by_text['id']}/updates/", {"message": "The technician is booked."}, expect=201)
        fulfilled = api.post(f"commitments/{by_email['id']}/fulfil/", {"resolution": "The estimate is attached."})
        assert fulfilled["status"] == "fulfilled"

        # Then the texting customer's promise, left alone, is missed and escalated, and the emailed
        # customer is asked whether they are satisfied
        live.wait_for(
            lambda: api.get(f"commitments/{by_text['id']}/")["status"] == "missed", timeout=30, message="missed"
        )
        live.wait_for(
            lambda: any(
                n["kind"] == "satisfaction_check" and n["status"] == "sent"
                for n in api.every(f"notifications/?commitment={by_email['id']}")
            ),
            timeout=20,
            message="the satisfaction check",
        )
        live.wait_for(
            lambda: any(
                n["kind"] == "apology" and n["status"] == "sent"
                for n in api.every(f"notifications/?commitment={by_text['id']}")
            ),
            timeout=20,
            message="the apology",
        )
        # Let the engine settle: nothing due is left unsent.
        live.wait_for(
            lambda: all(
                n["status"] != "pending" or n["scheduled_for"] > timezone.now().isoformat()
                for commitment in (by_email, by_text)
                for n in api.every(f"notifications/?commitment={commitment['id']}")
            ),
            timeout=20,
            message="the outbox to drain",
        )
        notifications = {
            commitment["id"]: api.every(f"notifications/?commitment={commitment['id']}")
            for commitment in (by_email, by_text)
        }
        timelines = {
            commitment["id"]: api.every(f"commitments/{commitment['id']}/timeline/")
            for commitment in (by_email, by_text)
        }

    everything = [n for rows in notifications.values() for n in rows]
    sent = [n for n in everything if n["status"] == "sent"]

    # Every message the API reports as sent arrived exactly once, by its channel, to its recipient
    arrived_by_mail = Counter(str(message["Message-ID"]) for message in mail_server.messages)
    arrived_by_text = Counter(sms_webhook.keys())
    # Past 08:00 in the team's zone on a working day, the lead's daily digest rides along: it belongs
    # to no commitment, so it is checked on its own (once, to the lead) and left out of the count.
    digests = [m for m in mail_server.messages if str(m["Message-ID"]).startswith("<digest.")]
    assert all(lead.email in str(m["To"]) for m in digests), digests
    assert len({str(m["Message-ID"]) for m in digests}) == len(digests), "a digest arrived twice"
    for digest in digests:
        del arrived_by_mail[str(digest["Message-ID"])]
    assert all(count == 1 for count in arrived_by_mail.values()), arrived_by_mail
    assert all(count == 1 for count in arrived_by_text.values()), arrived_by_text
    texts_sent = {n["idempotency_key"] for n in sent if n["channel"] == "sms"}
    assert texts_sent == set(arrived_by_text)
    assert sum(1 for n in sent if n["channel"] == "email") == sum(arrived_by_mail.values())
    for n in sent:
        if n["channel"] == "email":
            assert any(n["recipient"] in str(m["To"]) for m in mail_server.messages), n

    # The customers heard what the contract promises them, each message once
    text_kinds = Counter(n["kind"] for n in notifications[by_text["id"]] if n["audience"] == "customer")
    mail_kinds = Counter(n["kind"] for n in notifications[by_email["id"]] if n["audience"] == "customer")
    assert text_kinds["acknowledgement"] == 1 and text_kinds["apology"] == 1
    assert text_kinds["status_update"] >= 1  # the agent's own; automatic ones follow every 6 s
    assert mail_kinds["acknowledgement"] == 1 and mail_kinds["resolution"] == 1
    assert mail_kinds["satisfaction_check"] == 1
    agents_update = [t for t in sms_webhook.to("+15555550142") if "The technician is booked." in t["body"]]
    assert len(agents_update) == 1

    # Staff were warned before the texted promise came due, and told when it was missed
    escalations = [n for n in notifications[by_text["id"]] if n["kind"] == "escalation" and n["status"] == "sent"]
    assert {n["recipient"] for n in escalations} == {agent.email, lead.email}

    # The timeline the API reports records each message that went out
    for commitment_id, events in timelines.items():
        recorded = {e["data"].get("notification_id") for e in events if e["kind"] == "message"}
        assert {n["id"] for n in notifications[commitment_id] if n["status"] == "sent"} <= recorded
