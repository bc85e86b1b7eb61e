"""A team's own wording per kind of customer message: validated field by field, versioned with
undo, previewed on both channels, and used for every message of that kind the team sends."""

import pytest
from django.urls import reverse

from commitments.errors import InvalidInput, NotAllowed
from notifications import segments, team_templates, wording
from notifications.models import MessageKind, Notification, TeamTemplate
from tests.commitments.test_views import errors_beside, text
from tests.factories import customer_details, make_commitment

pytestmark = pytest.mark.django_db

WORDING = {
    "subject": "Thanks, {{ first_name }}: we have it",
    "body": (
        "{{ owner_name }} has your request: {{ summary }}.\n\nDone by {{ due }}. Next update by {{ next_contact }}."
    ),
    "sms": "{{ first_name }}, {{ owner_name }} has it: {{ summary }}. Done by {{ due_short }}. {{ status_url }}",
}


def test_a_saved_template_words_the_teams_next_messages_on_both_channels(lead, agent, team):
    team_templates.save(actor=lead, team=team, kind=MessageKind.ACKNOWLEDGEMENT, **WORDING)

    by_email = make_commitment(actor=agent)
    by_text = make_commitment(
        actor=agent, customer=customer_details(email="", phone="+12025550188", preferred_channel="sms")
    )

    email = Notification.objects.get(commitment=by_email, kind=MessageKind.ACKNOWLEDGEMENT)
    sms = Notification.objects.get(commitment=by_text, kind=MessageKind.ACKNOWLEDGEMENT)
    assert email.subject == "Thanks, Dana: we have it"
    assert "Alex Rivera has your request: Send the repair estimate." in email.body
    assert sms.body.startswith("Dana, Alex Rivera has it: Send the repair estimate. Done by ")
    assert sms.body.endswith(by_text.status_url)


def test_another_team_keeps_the_products_wording(lead, team, outsider):
    team_templates.save(actor=lead, team=team, kind=MessageKind.ACKNOWLEDGEMENT, **WORDING)

    theirs = make_commitment(actor=outsider, customer=customer_details(email="o@example.com", phone=""))

    assert Notification.objects.get(commitment=theirs, kind=MessageKind.ACKNOWLEDGEMENT).subject.startswith(
        "We are on it"
    )


@pytest.mark.parametrize(
    ("field", "source", "error"),
    [
        ("body", "Hello {{ frist_name }}", "Unknown variable “frist_name”"),
        ("body", "{% if is_mised %}x{% endif %}", "Unknown variable “is_mised”"),
        ("subject", "{% if is_missed %}Late", "The template does not read"),
        ("sms", "{{ summary|nosuchfilter }}", "The template does not read"),
        ("body", "{% include 'base.html' %}", "is not allowed here"),
        ("body", "{% load static %}", "is not allowed here"),
        ("sms", "   ", "Write the text message."),
    ],
)
def test_a_broken_template_cannot_be_saved_and_the_error_names_its_field(lead, team, field, source, error):
    with pytest.raises(InvalidInput) as refused:
        team_templates.save(actor=lead, team=team, kind=MessageKind.STATUS_UPDATE, **{**WORDING, field: source})

    assert list(refused.value.errors) == [field]
    assert error in refused.value.errors[field][0]
    assert not TeamTemplate.objects.exists()


def test_each_save_is_a_version_and_undo_puts_the_previous_one_back(lead, team, agent):
    first = team_templates.save(actor=lead, team=team, kind=MessageKind.ACKNOWLEDGEMENT, **WORDING)
    second = team_templates.save(
        actor=lead, team=team, kind=MessageKind.ACKNOWLEDGEMENT, **{**WORDING, "subject": "Got it, {{ first_name }}"}
    )

    undone = team_templates.undo(actor=lead, team=team, kind=MessageKind.ACKNOWLEDGEMENT)

    assert (first.version, second.version, undone.version) == (1, 2, 3)
    assert undone.subject == WORDING["subject"]
    commitment = make_commitment(actor=agent)
    assert Notification.objects.get(commitment=commitment).subject == "Thanks, Dana: we have it"
    # Undo once more: version 2's words; the history of versions is never rewritten
    team_templates.undo(actor=lead, team=team, kind=MessageKind.ACKNOWLEDGEMENT)
    assert [v.version for v in team_templates.versions(team=team, kind=MessageKind.ACKNOWLEDGEMENT)] == [4, 3, 2, 1]


def test_undoing_the_only_version_brings_back_the_products_wording(lead, team, agent):
    team_templates.save(actor=lead, team=team, kind=MessageKind.ACKNOWLEDGEMENT, **WORDING)

    team_templates.undo(actor=lead, team=team, kind=MessageKind.ACKNOWLEDGEMENT)

    commitment = make_commitment(actor=agent)
    assert Notification.objects.get(commitment=commitment).subject.startswith("We are on it")


def test_only_a_lead_changes_the_teams_templates(agent, team):
    with pytest.raises(NotAllowed):
        team_templates.save(actor=agent, team=team, kind=MessageKind.ACKNOWLEDGEMENT, **WORDING)


def test_the_preview_shows_both_channels_or_what_is_wrong(lead, team):
    good = team_templates.preview(team=team, kind=MessageKind.STATUS_UPDATE, **WORDING)
    broken = team_templates.preview(team=team, kind=MessageKind.STATUS_UPDATE, **{**WORDING, "body": "{{ oops }}"})

    assert good.errors == {} and good.subject == "Thanks, Dana: we have it"
    assert "has your request: Send the revised estimate for the water heater." in good.text
    assert good.sms.startswith("Dana, ") and good.encoding == "GSM-7"
    assert (good.sms_length, good.sms_segments) == (len(good.sms), segments.sms_segments(good.sms))
    assert list(broken.errors) == ["body"]


def test_the_products_wording_is_what_a_lead_starts_from(lead, team):
    words = team_templates.initial_words(team=team, kind=MessageKind.ACKNOWLEDGEMENT)

    assert words["subject"] == "We are on it: {{ summary }}"
    assert "{{ status_url }}" in words["sms"]
    assert team_templates.validate(**words) == {}  # every kind's own wording passes the checks
    for kind in team_templates.KINDS:
        assert team_templates.validate(**team_templates.default_words(kind)) == {}, kind


def test_writing_a_message_costs_no_query_to_find_the_teams_wording(lead, team, agent, django_assert_num_queries):
    team_templates.save(actor=lead, team=team, kind=MessageKind.ACKNOWLEDGEMENT, **WORDING)
    commitment = make_commitment(actor=agent)
    wording.render_customer_message(commitment, MessageKind.ACKNOWLEDGEMENT)  # compiled once in this process

    with django_assert_num_queries(0):
        content = wording.render_customer_message(commitment, MessageKind.ACKNOWLEDGEMENT)

    assert content.subject == "Thanks, Dana: we have it"


def test_a_lead_edits_a_template_in_the_page_and_sees_errors_by_field(client, lead, team):
    client.force_login(lead)
    url = reverse("commitments:template", args=[team.pk, "acknowledgement"])

    page = client.get(url)
    refused = client.post(url, {**WORDING, "body": "Hi {{ nobody }}"})
    saved = client.post(url, WORDING)
    preview = client.post(
        reverse("commitments:template_preview", args=[team.pk, "acknowledgement"]), WORDING, HTTP_HX_REQUEST="true"
    )
    undone = client.post(url, {**WORDING, "undo": "1"})

    assert "We are on it: {{ summary }}" in page.content.decode()  # the product's wording to start from
    assert "By email" in text(page) and "By text" in text(page)
    assert refused.status_code == 400
    assert "Unknown variable “nobody”" in errors_beside(refused, "id_body")
    assert saved.status_code == 302 and undone.status_code == 302
    assert "Subject Thanks, Dana: we have it" in text(preview)
    assert "segment" in text(preview)
    listing = text(client.get(reverse("commitments:templates", args=[team.pk])))
    assert "Acknowledgement The product's wording" in listing


def test_an_agent_sees_the_templates_but_cannot_save(client, agent, team):
    client.force_login(agent)
    url = reverse("commitments:template", args=[team.pk, "acknowledgement"])

    assert "Only a lead of Home Repairs can change this." in text(client.get(url))
    assert client.post(url, WORDING).status_code == 403
    assert not TeamTemplate.objects.exists()
