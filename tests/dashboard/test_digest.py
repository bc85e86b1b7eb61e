"""The lead's daily digest: once a day, at the digest time in the team's zone, on working days."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from accounts.models import Holiday, Membership
from commitments import services
from notifications import delivery, digests, tasks
from notifications.models import Notification
from tests.api.conftest import client_for
from tests.dashboard.conftest import Story
from tests.factories import UserFactory, make_commitment

# Wednesday 2 December 2026 in New York (UTC-5): 08:00 there is 13:00 UTC.
WEDNESDAY_0800_NEW_YORK = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)


@pytest.fixture
def new_york(story: Story, settings) -> Story:
    settings.FOLLOWTHROUGH_DIGEST_AT = time(8, 0)
    story.team.timezone = "America/New_York"
    story.team.working_days = "1,2,3,4,5"
    story.team.save()
    # Billing (UTC, every day) would get its own digest too: these tests are about Home Repairs.
    Membership.objects.filter(team=story.other_team).update(role=Membership.Role.AGENT)
    return story


def digests_made() -> list[Notification]:
    return list(Notification.objects.filter(kind="digest").order_by("pk"))


def test_one_digest_a_day_per_lead_from_the_digest_time(new_york: Story) -> None:
    assert digests.send_due_digests(now=WEDNESDAY_0800_NEW_YORK - timedelta(minutes=1)) == 0
    assert digests.send_due_digests(now=WEDNESDAY_0800_NEW_YORK) == 1
    # A second beat, a later sweep the same day: nothing more.
    assert digests.send_due_digests(now=WEDNESDAY_0800_NEW_YORK) == 0
    assert digests.send_due_digests(now=WEDNESDAY_0800_NEW_YORK + timedelta(hours=5)) == 0
    (digest,) = digests_made()
    assert digest.recipient == new_york.lead.email and digest.recipient_user == new_york.lead
    assert digest.commitment is None and digest.audience == "staff" and digest.channel == "email"
    assert digest.idempotency_key == f"digest:t{new_york.team.pk}:u{new_york.lead.pk}:2026-12-02"
    # The next morning, the next one.
    assert digests.send_due_digests(now=WEDNESDAY_0800_NEW_YORK + timedelta(days=1)) == 1


def test_no_digest_on_a_weekend_or_a_holiday(new_york: Story) -> None:
    saturday = WEDNESDAY_0800_NEW_YORK + timedelta(days=3)
    assert digests.send_due_digests(now=saturday) == 0
    Holiday.objects.create(team=new_york.team, date=WEDNESDAY_0800_NEW_YORK.date(), name="Staff day")
    assert digests.send_due_digests(now=WEDNESDAY_0800_NEW_YORK) == 0


def test_every_lead_of_the_team_gets_their_own(new_york: Story) -> None:
    second = UserFactory.create(username="robin")
    Membership.objects.create(user=second, team=new_york.team, role=Membership.Role.LEAD)
    assert digests.send_due_digests(now=WEDNESDAY_0800_NEW_YORK) == 1 + 1
    assert {row.recipient for row in digests_made()} == {new_york.lead.email, second.email}


def test_what_the_digest_says(new_york: Story, settings) -> None:
    settings.SITE_URL = "https://followthrough.example.com"
    done = make_commitment(actor=new_york.alex, summary="Email the invoice")
    services.fulfil(actor=new_york.alex, commitment=done, resolution="Sent it.")
    content = digests.digest_content(team=new_york.team, lead=new_york.lead, now=timezone.now())
    assert content["subject"] == "Home Repairs: 1 overdue or missed, 1 at risk"
    body = content["text"]
    assert "OVERDUE OR MISSED (1)\n- Refund the duplicate charge (Alex Rivera, due" in body
    assert "AT RISK (1)\n- Fix the thermostat (Blake Moss, due" in body
    # Fulfilled since the last digest (none before this one: the last day). c9 was a day ago.
    assert "- Email the invoice (Alex Rivera," in body and "Replace the valve" not in body
    assert "THE LAST 7 DAYS (6 commitments logged)" in body
    assert "Customer chased us: " in body and "Promise accuracy: " in body
    assert f"https://followthrough.example.com/dashboard/?team={new_york.team.pk}" in body
    assert "Another team's promise" not in body
    assert "Open the dashboard" in content["html"] and "Refund the duplicate charge" in content["html"]


def test_the_sweep_makes_it_and_delivery_sends_it_by_email(story: Story, settings, mail_server) -> None:
    settings.FOLLOWTHROUGH_DIGEST_AT = time(0, 0)  # Due whenever this test runs (every day works).
    tasks.sweep()
    # Lee's for Home Repairs, Pat's for Billing.
    assert {row.recipient for row in digests_made()} == {story.lead.email, story.other_lead.email}
    (digest,) = [row for row in digests_made() if row.recipient_user == story.lead]
    assert digest.status == "sent"
    (mail,) = mail_server.to(story.lead.email)
    assert mail["Subject"].startswith("Home Repairs: ")
    assert "/dashboard/?team=" in mail.get_body(("plain",)).get_content()
    assert mail.get_body(("html",)) is not None
    # The next tick makes no second one, and the commitment-less row broke no timeline.
    tasks.sweep()
    assert len(digests_made()) == 2
    assert delivery.deliver_due().sent == 0


def test_the_messages_api_still_answers_with_a_digest_in_the_outbox(story: Story, settings) -> None:
    settings.FOLLOWTHROUGH_DIGEST_AT = time(0, 0)
    digests.send_due_digests()
    operator = UserFactory.create(username="operator", is_superuser=True, is_staff=True)
    body = client_for(operator).get("/api/v1/notifications/", {"kind": "digest"}).json()
    assert [row["commitment"] for row in body["results"]] == [None, None]  # Lee's and Pat's
    # A lead sees only their teams' commitments' messages, as before.
    rows = client_for(story.lead).get("/api/v1/notifications/", {"kind": "digest"}).json()["results"]
    assert rows == []


def test_the_admin_lists_a_digest(story: Story, settings, client) -> None:
    settings.FOLLOWTHROUGH_DIGEST_AT = time(0, 0)
    digests.send_due_digests()
    operator = UserFactory.create(username="operator", is_superuser=True, is_staff=True)
    client.force_login(operator)
    response = client.get("/admin/notifications/notification/", {"kind": "digest"})
    assert response.status_code == 200 and story.lead.email in response.content.decode()
    digest = digests_made()[0]
    assert client.get(f"/admin/notifications/notification/{digest.pk}/change/").status_code == 200
