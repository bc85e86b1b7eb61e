"""The writing aids on the staff pages: the composer's coach and preview, the promise proposal,
customer temperature in the lists, and the lead's glossary page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from commitments import services
from commitments.models import Commitment, GlossaryTerm, TimelineEvent
from notifications.models import Notification
from tests.commitments.test_views import HTMX, errors_beside, text
from tests.factories import customer_details, make_commitment

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def promise(agent):
    return make_commitment(actor=agent, summary="Send the repair estimate", due_at=timezone.now() + timedelta(days=2))


def compose(client, commitment, **parts):
    return client.post(reverse("commitments:compose", args=[commitment.pk]), parts, **HTMX)


def test_the_commitment_page_prompts_for_the_four_parts_with_the_next_contact_prefilled(signed_in, promise):
    page = signed_in.get(promise.get_absolute_url())
    html = page.content.decode()

    for label in (
        "What is done",
        "What happens next",
        "What we do not know yet, and how we will find out",
        "When they hear from us next",
        "Update for the customer",
    ):
        assert label in text(page)
    assert 'hx-trigger="load, keyup delay:500ms, change delay:500ms"' in html
    # Prefilled from the cadence: one update interval from now, in the customer's zone, on a quarter hour
    expected = (timezone.now() + promise.update_interval).astimezone(promise.customer.zone)
    value = html.split('name="next_contact_at"')[1].split('value="')[1].split('"')[0]
    assert value[:13] == expected.strftime("%Y-%m-%dT%H") or value[:10] == expected.strftime("%Y-%m-%d")
    assert int(value[-2:]) % 15 == 0


def test_the_coach_flags_a_hedge_and_the_preview_shows_the_email_as_sent(signed_in, promise):
    response = compose(
        signed_in,
        promise,
        done="The technician measured the boiler",
        next_step="Maybe we order the part today",
        next_contact_at="",
    )

    page = text(response)
    assert response.status_code == 200
    assert "Hedging Maybe Say what you know" in page
    assert "No next contact" in page
    assert "What Dana Whitfield gets by email" in page
    assert "Subject Update: Send the repair estimate" in page
    assert "The technician measured the boiler. Maybe we order the part today." in page


def test_a_plain_complete_update_is_praised_and_a_next_contact_later_than_the_cadence_is_flagged(signed_in, promise):
    soon = timezone.localtime(timezone.now() + timedelta(hours=3), promise.customer.zone).strftime("%Y-%m-%dT%H:%M")
    late = timezone.localtime(timezone.now() + timedelta(days=3), promise.customer.zone).strftime("%Y-%m-%dT%H:%M")

    plain = text(compose(signed_in, promise, done="The part is ordered", next_contact_at=soon))
    too_late = text(compose(signed_in, promise, done="The part is ordered", next_contact_at=late))

    assert "Plain and complete" in plain
    assert "Later than the cadence" in too_late and "promise that or sooner" in too_late


def test_a_texting_customer_sees_the_text_with_its_length_and_segments(signed_in, agent):
    texting = make_commitment(
        actor=agent, customer=customer_details(preferred_channel="sms", email="", phone="+12025550188")
    )

    page = text(compose(signed_in, texting, done="The part is ordered", next_step="It arrives Thursday"))

    assert "What Dana Whitfield gets by text" in page
    assert "The part is ordered. It arrives Thursday. Next update by" in page
    assert "1 segment · GSM-7" in page or "2 segments · GSM-7" in page


def test_sending_the_parts_sends_one_message_and_keeps_the_agents_next_contact(signed_in, promise):
    soon = timezone.localtime(timezone.now() + timedelta(hours=5), promise.customer.zone)

    response = signed_in.post(
        reverse("commitments:move", args=[promise.pk, "update"]),
        {
            "done": "The technician measured the boiler",
            "next_step": "We order the part today",
            "not_known": "The price: the supplier confirms it by noon",
            "next_contact_at": soon.strftime("%Y-%m-%dT%H:%M"),
            "message": "",
        },
    )

    assert response.status_code == 302
    event = TimelineEvent.objects.get(commitment=promise, kind="update_sent")
    assert event.message.startswith("The technician measured the boiler.\n\nWe order the part today.")
    [update] = Notification.objects.filter(commitment=promise, kind="status_update")
    assert "The price: the supplier confirms it by noon." in update.body
    promise.refresh_from_db()
    assert promise.next_update_at == soon.replace(second=0, microsecond=0)


def test_a_next_contact_in_the_past_is_refused_beside_its_field(signed_in, promise):
    past = timezone.localtime(timezone.now() - timedelta(hours=1), promise.customer.zone).strftime("%Y-%m-%dT%H:%M")

    response = signed_in.post(
        reverse("commitments:move", args=[promise.pk, "update"]),
        {"done": "Done", "next_contact_at": past},
        **HTMX,
    )

    assert response.status_code == 400
    assert errors_beside(response, "id_send_update_next_contact_at") == "The next contact must be in the future."
    assert not Notification.objects.filter(commitment=promise, kind="status_update").exists()


def test_the_promise_proposal_shows_the_time_to_promise_and_why(signed_in, agent, team):
    team.default_promise_buffer = timedelta(hours=3)
    team.save()
    target = timezone.localtime(timezone.now() + timedelta(days=1), team.zone).replace(minute=0)

    response = signed_in.get(
        reverse("commitments:promise"), {"target_at": target.strftime("%Y-%m-%dT%H:%M"), "owner": agent.pk}, **HTMX
    )

    page = text(response)
    assert "Promise" in page and "(your target plus 3 hours)" in page
    assert "the team's default buffer of 3 hours" in page
    assert "Leave the due time empty to promise this time" in page


def test_logging_a_promise_from_a_target_alone_promises_the_proposed_time(signed_in, agent, team):
    target = timezone.localtime(timezone.now() + timedelta(days=1), team.zone).replace(
        minute=0, second=0, microsecond=0
    )

    response = signed_in.post(
        reverse("commitments:new"),
        {
            "customer_email": "noor@example.com",
            "customer_name": "Noor Aziz",
            "preferred_channel": "email",
            "customer_timezone": "America/New_York",
            "summary": "Call back with the quote",
            "target_at": target.strftime("%Y-%m-%dT%H:%M"),
            "temperature": "worried",
        },
    )

    assert response.status_code == 302
    commitment = Commitment.objects.get(summary="Call back with the quote")
    assert commitment.target_at == target
    assert commitment.due_at == target + team.default_promise_buffer
    assert commitment.temperature == "worried"


def test_upset_customers_come_first_in_my_list_and_the_teams(signed_in, agent, team):
    soon = make_commitment(
        actor=agent, summary="Due first", due_at=timezone.now() + timedelta(hours=2), customer=customer_details()
    )
    upset = make_commitment(
        actor=agent,
        summary="The upset one",
        due_at=timezone.now() + timedelta(days=5),
        customer=customer_details(name="Omar Haddad", email="omar@example.com", phone=""),
        temperature="upset",
    )

    mine = text(signed_in.get(reverse("commitments:mine")))
    teams = text(signed_in.get(reverse("commitments:team")))

    for page in (mine, teams):
        assert page.index("The upset one") < page.index("Due first")
        assert "Upset" in page
    assert soon.temperature == "calm" and upset.update_interval == team.upset_update_interval


def test_marking_a_customer_upset_on_the_page_shortens_the_updates(signed_in, promise, team):
    response = signed_in.post(
        reverse("commitments:move", args=[promise.pk, "edit"]),
        {"summary": promise.summary, "details": "", "update_interval": "24h", "temperature": "upset"},
    )

    assert response.status_code == 302
    promise.refresh_from_db()
    assert (promise.temperature, promise.update_interval) == ("upset", team.upset_update_interval)
    assert "Customer feels Upset" in text(signed_in.get(promise.get_absolute_url()))


def test_a_lead_edits_the_glossary_and_the_coach_uses_it(client, lead, agent, team, promise):
    client.force_login(lead)
    url = reverse("commitments:glossary", args=[team.pk])

    refused = client.post(url, {"term": "RMA", "plain": ""})
    saved = client.post(url, {"term": "RMA", "plain": "return number"})

    assert refused.status_code == 400
    assert errors_beside(refused, "id_plain") == "Write the plain words to use instead."
    assert saved.status_code == 302
    assert "RMA return number" in text(client.get(url))
    client.force_login(agent)
    assert "Use the plain word: “return number”." in text(compose(client, promise, done="Your RMA is approved"))


def test_an_agent_can_read_the_glossary_but_not_change_it(signed_in, team):
    GlossaryTerm.objects.create(team=team, term="ETA", plain="expected time")
    url = reverse("commitments:glossary", args=[team.pk])

    page = signed_in.get(url)
    refused = signed_in.post(url, {"term": "SLA", "plain": "promised time"})

    assert "ETA expected time" in text(page) and "Add a term" not in text(page)
    assert refused.status_code == 403
    assert not GlossaryTerm.objects.filter(term="SLA").exists()


def test_another_teams_glossary_is_not_found(signed_in, outsider):
    other_team = outsider.teams.get()

    assert signed_in.get(reverse("commitments:glossary", args=[other_team.pk])).status_code == 404


def test_a_commitment_of_another_team_has_no_composer_preview(signed_in, outsider):
    theirs = make_commitment(actor=outsider, customer=customer_details(email="o@example.com", phone=""))

    assert compose(signed_in, theirs, done="x").status_code == 404
    assert services.available_actions(actor=outsider, commitment=theirs)
