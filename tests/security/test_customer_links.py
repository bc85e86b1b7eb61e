"""The customer's links: each token good for one purpose and one commitment, revocable, read-only when old."""

import html
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from commitments import services
from commitments.customer import services as customer_services
from commitments.models import Customer, Status
from commitments.status_links import token_for, unsubscribe_token, unsubscribe_url
from notifications.models import MessageKind, Notification
from tests.factories import customer_details, make_commitment
from tests.security.conftest import TeamA

pytestmark = pytest.mark.django_db

STATUS_PAGES = ["", "resolved/", "not-resolved/", "answer/", "preferences/"]


def text_of(response) -> str:
    return html.unescape(response.content.decode(errors="replace"))


def test_tampered_revoked_and_wrong_purpose_tokens_show_nothing(client, team_a: TeamA, agent):
    status, unsubscribe, contact = team_a.status_token, team_a.unsubscribe_token, team_a.contact_token
    tampered = status[:-1] + ("A" if status[-1] != "A" else "B")
    forged_unsubscribe = f"{team_a.commitment.pk}-{status}"  # the status token where the unsubscribe one goes
    wrong = {
        "tampered status token": [f"/s/{tampered}/{page}" for page in STATUS_PAGES],
        "unsubscribe token on the status pages": [f"/s/{unsubscribe}/{page}" for page in STATUS_PAGES],
        "contact token on the status pages": [f"/s/{contact}/{page}" for page in STATUS_PAGES],
        "status token on the unsubscribe page": [f"/s/{status}/unsubscribe/", f"/s/{forged_unsubscribe}/unsubscribe/"],
        "status token on the contact page": [f"/s/contact/{status}/", f"/s/contact/{unsubscribe}/"],
    }
    for what, paths in wrong.items():
        for path in paths:
            for response in (client.get(path), client.post(path, {"List-Unsubscribe": "One-Click"})):
                assert response.status_code in (404, 405), f"{what}: {path}"
                assert "Replace the boiler valve" not in text_of(response), f"{what}: {path}"
    # Nothing happened through any of them
    customer = Customer.objects.get(pk=team_a.customer.pk)
    assert customer.email == "dana@example.com" and not customer.email_updates_opted_out

    # A revoked link (the owner replaced it) is the same 404, for the status page and for unsubscribing
    customer_services.revoke_status_link(actor=agent, commitment=team_a.commitment)
    for path in [f"/s/{status}/", f"/s/{unsubscribe}/unsubscribe/"]:
        assert client.get(path).status_code == 404, path
    team_a.commitment.refresh_from_db()
    assert client.get(f"/s/{token_for(team_a.commitment.status_token_nonce)}/").status_code == 200
    assert client.get(f"/s/{unsubscribe_token(team_a.commitment)}/unsubscribe/").status_code == 200


def test_another_commitments_token_opens_only_that_commitment(client, team_a: TeamA, agent):
    other = make_commitment(
        actor=agent,
        summary="Paint the fence",
        customer=customer_details(name="Ravi Patel", email="ravi@example.com", phone=""),
    )
    page = text_of(client.get(f"/s/{token_for(other.status_token_nonce)}/"))
    assert "Paint the fence" in page
    assert "Replace the boiler valve" not in page and "Dana" not in page
    # Its unsubscribe token with team A's commitment id in front is refused
    signature = unsubscribe_token(other).partition("-")[2]
    assert client.get(f"/s/{team_a.commitment.pk}-{signature}/unsubscribe/").status_code == 404


def test_the_unsubscribe_link_never_opens_the_status_page(client, team_a: TeamA):
    url = unsubscribe_url(team_a.commitment)
    assert team_a.status_token not in url
    page = text_of(client.get(urlsplit(url).path))
    assert "Stop regular email updates?" in page
    # The page links nowhere near the status page: it holds no status token
    assert team_a.status_token not in page and "/preferences/" not in page


def test_a_new_email_is_used_only_once_confirmed_from_that_address(client, team_a: TeamA):
    customer = Customer.objects.get(pk=team_a.customer.pk)
    # The pending change from the fixture: the old address is still the one on file
    assert customer.email == "dana@example.com"
    [check] = Notification.objects.filter(commitment=team_a.commitment, kind=MessageKind.CONTACT_CHECK)
    assert check.recipient == "dana.new@example.com" and check.channel == "email"
    # The status page does not reveal the confirmation link, nor does the message history
    status_page = text_of(client.get(f"/s/{team_a.status_token}/"))
    assert team_a.contact_token not in status_page
    # A mail scanner opening the link changes nothing
    path = f"/s/contact/{team_a.contact_token}/"
    assert "Use this email address?" in text_of(client.get(path))
    assert Customer.objects.get(pk=customer.pk).email == "dana@example.com"
    # The holder of the new address confirms it: from now on it is used
    assert "it's confirmed" in text_of(client.post(path))
    assert Customer.objects.get(pk=customer.pk).email == "dana.new@example.com"
    # and the link is spent
    assert client.post(path).status_code == 404


def test_the_preferences_page_shows_contacts_masked(client, team_a: TeamA):
    page = text_of(client.get(f"/s/{team_a.status_token}/preferences/"))
    assert "dana@example.com" not in page and "+12025550123" not in page
    assert "d•••@example.com" in page and "•••• 0123" in page


def test_a_closed_commitments_link_turns_read_only_after_30_days(client, team_a: TeamA, agent):
    commitment = services.fulfil(actor=agent, commitment=team_a.commitment, resolution="Valve replaced.")
    services.confirm(commitment=commitment)
    path = f"/s/{team_a.status_token}/"
    # Within 30 days the customer can still act (e.g. change how we reach them)
    assert (
        client.post(
            f"{path}preferences/",
            {"preferred_channel": "email", "email": "d•••@example.com", "phone": "•••• 0123", "texts_allowed": "on"},
        ).status_code
        == 302
    )
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        page = client.get(path)
        assert page.status_code == 200 and "This request is closed" in text_of(page)
        assert "Change how we reach you" not in text_of(page)
        for action in ("not-resolved/", "preferences/", "answer/", "resolved/"):
            response = client.post(f"{path}{action}", {"what_is_wrong": "Broken again", "preferred_channel": "sms"})
            assert response.status_code == 403, action
    commitment.refresh_from_db()
    assert commitment.status == Status.CONFIRMED


def test_staff_replace_a_link_from_the_commitment_page_after_confirming(client, team_a: TeamA, agent, outsider):
    client.force_login(agent)
    detail = text_of(client.get(f"/commitments/{team_a.commitment.pk}/"))
    assert f"/commitments/{team_a.commitment.pk}/status-link/" in detail
    # GET only asks
    question = client.get(f"/commitments/{team_a.commitment.pk}/status-link/")
    assert "Replace Dana Whitfield's status link?" in text_of(question)
    assert Client().get(f"/s/{team_a.status_token}/").status_code == 200
    # POST replaces it: the old link is dead, the new one works and is on the page
    done = client.post(f"/commitments/{team_a.commitment.pk}/status-link/", follow=True)
    assert "The customer's link was replaced" in text_of(done)
    assert Client().get(f"/s/{team_a.status_token}/").status_code == 404
    team_a.commitment.refresh_from_db()
    new_token = token_for(team_a.commitment.status_token_nonce)
    assert new_token in text_of(done)
    assert Client().get(f"/s/{new_token}/").status_code == 200
    # Another team's agent cannot
    client.force_login(outsider)
    assert client.post(f"/commitments/{team_a.commitment.pk}/status-link/").status_code == 404
    team_a.commitment.refresh_from_db()
    assert token_for(team_a.commitment.status_token_nonce) == new_token


def test_the_link_in_the_confirmation_message_is_for_the_new_address_only(team_a: TeamA):
    [check] = Notification.objects.filter(commitment=team_a.commitment, kind=MessageKind.CONTACT_CHECK)
    links = re.findall(r"https?://\S+", check.body)
    assert links == [links[0]] and "/s/contact/" in links[0]
    assert team_a.status_token not in check.body
