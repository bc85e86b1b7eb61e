"""An agent writes an update with the composer in a real browser: the coach reads it as they type,
and the preview shows the very text the customer's phone will get, with its length and segments."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from commitments import services
from commitments.models import Commitment, GlossaryTerm
from notifications.models import Notification
from tests.browser.conftest import ARTIFACTS, log_in, screenshot
from tests.factories import PASSWORD, customer_details, make_commitment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_composes_a_text_update_guided_by_the_coach(page: Page, agent, team):
    # Given a promise to a customer who wants texts, and the team's glossary
    GlossaryTerm.objects.create(team=team, term="RMA", plain="return number")
    promise = make_commitment(
        actor=agent,
        customer=customer_details(
            name="Priya Raman", email="", phone="+14155550178", preferred_channel="sms", timezone="America/Chicago"
        ),
        summary="Send the return label for the faulty router",
        due_at=timezone.now() + timedelta(days=2),
    )
    log_in(page, "alex", PASSWORD)
    page.goto(promise.get_absolute_url())

    # The next contact is prefilled from the cadence, and the preview shows the text before anything is typed
    expect(page.get_by_label("When they hear from us next")).not_to_have_value("")
    feedback = page.locator("#composer-feedback")
    expect(feedback).to_contain_text("What Priya Raman gets by text")

    # When they write the parts the way agents often do
    page.get_by_label("What is done").fill("Your RMA is approved")
    page.get_by_label("What happens next").fill("Maybe the courier collects the router tomorrow")

    # Then the coach flags the jargon (with the team's plain word) and the hedge, without blocking
    expect(feedback.locator("[data-kind=jargon]")).to_contain_text("return number")
    expect(feedback.locator("[data-kind=hedging]")).to_contain_text("Maybe")
    sms = feedback.locator("[data-preview=sms]")
    expect(sms).to_contain_text("Your RMA is approved. Maybe the courier collects the router tomorrow.")
    expect(sms).to_contain_text("Next update by")
    expect(feedback.locator("[data-preview=sms-count]")).to_contain_text("GSM-7")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator(".composer-grid").screenshot(path=str(ARTIFACTS / "composer.png"))

    # When they take the advice
    page.get_by_label("What is done").fill("Your return number is approved")
    page.get_by_label("What happens next").fill("The courier collects the router tomorrow morning")
    page.get_by_label("What we do not know yet, and how we will find out").fill(
        "When the new router ships: the warehouse tells us by noon"
    )

    # Then the coach has nothing more to say, and the text is counted by the GSM-7 rules
    expect(feedback).to_contain_text("Plain and complete")
    count = feedback.locator("[data-preview=sms-count]")
    expect(count).to_contain_text("segments · GSM-7")
    screenshot(page, "composer-page")

    # And one character outside GSM-7 makes the whole text UCS-2, with shorter segments (67 units each)
    for label in ("What is done", "What happens next", "What we do not know yet, and how we will find out"):
        page.get_by_label(label).fill("")
    page.get_by_label("Update for the customer").fill("Thanks 🙏")
    expect(count).to_contain_text("2 segments · UCS-2")
    expect(sms).to_contain_text("Thanks 🙏")

    # When they send it, the customer gets exactly the previewed text
    previewed = sms.inner_text()
    page.get_by_role("button", name="Send update to Priya Raman").click()
    expect(page.get_by_role("status")).to_contain_text("Update sent to Priya Raman by text message.")
    sent = Notification.objects.get(commitment=promise, kind="status_update")
    assert sent.body == previewed.strip()


def test_an_agent_logs_a_promise_from_their_own_target_and_an_upset_customer_comes_first(page: Page, agent, team):
    # Given the agent's history: their last jobs finished 1 to 3 hours after their own targets
    for index, hours in enumerate((1, 2, 2, 3)):
        own_target = timezone.now() + timedelta(hours=1)
        done = make_commitment(
            actor=agent,
            customer=customer_details(email=f"past{index}@example.com", phone=""),
            due_at=timezone.now() + timedelta(days=1),
            target_at=own_target,
        )
        services.fulfil(actor=agent, commitment=done, resolution="Done.")
        Commitment.objects.filter(pk=done.pk).update(fulfilled_at=own_target + timedelta(hours=hours))
    log_in(page, "alex", PASSWORD)
    page.goto("/commitments/new/")
    page.get_by_label("Customer email").fill("noor.aziz@example.com")
    page.get_by_label("Customer name").fill("Noor Aziz")
    page.get_by_label("What did you promise?").fill("Call back with the warranty decision")

    # When they give their own target
    target = timezone.localtime(timezone.now() + timedelta(days=1), team.zone).replace(minute=0)
    page.get_by_label("Your own target").fill(target.strftime("%Y-%m-%dT%H:%M"))

    # Then the app proposes the time to promise, and says why in one line
    proposal = page.locator("#promise-proposal")
    expect(proposal).to_contain_text("your target plus 3 hours")
    expect(proposal).to_contain_text("Alex Rivera finished 4 of the last 4 jobs after the target")
    page.get_by_text("Upset", exact=True).click()
    screenshot(page, "log-a-promise-with-a-target", full_page=False)
    page.get_by_role("button", name="Log the promise").click()

    # And the customer is promised the proposed time, and the upset one is first in the list
    expect(page.get_by_text("Promise logged.")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My commitments").click()
    first_row = page.locator("#my-commitments > li").first
    expect(first_row).to_contain_text("Call back with the warranty decision")
    expect(first_row).to_contain_text("Upset")
