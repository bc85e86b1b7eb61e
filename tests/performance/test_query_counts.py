"""The pages and the API cost the same number of queries however many commitments there are.

What ``benchmarks/run.py`` times stays fast only while no query runs per row: each test counts
the queries of one page (or call) with a few commitments, adds many more, and counts again.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from commitments import services
from commitments.models import Commitment, TimelineEvent
from notifications.models import MessageKind, Notification
from tests.factories import customer_details, make_commitment

pytestmark = pytest.mark.django_db


def log(actor, count: int, start: int = 0) -> list[Commitment]:
    return [
        make_commitment(
            actor=actor, customer=customer_details(name=f"Customer {n}", email=f"c{n}@example.com", phone="")
        )
        for n in range(start, start + count)
    ]


def forty_updates(commitment, actor) -> None:
    """Forty lines on the timeline, "Update 0" to "Update 39", by ``actor``."""
    TimelineEvent.objects.bulk_create(
        TimelineEvent(commitment=commitment, kind=TimelineEvent.Kind.UPDATE_SENT, actor=actor, message=f"Update {n}")
        for n in range(40)
    )


def queries_of(fetch) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = fetch()
    assert response.status_code < 400, response.content[:500]
    return len(queries)


@pytest.fixture
def staff_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def api(agent):
    api = APIClient()
    api.force_authenticate(agent)
    return api


@pytest.mark.parametrize("path", ["/", "/team/", "/search/?q=Customer"])
def test_a_list_page_costs_the_same_queries_for_3_or_33_commitments(staff_client, agent, colleague, path):
    # Given three commitments (one handed to a colleague)
    log(agent, 3)
    staff_client.get(path)  # what a running process has long cached (templates, URL conf)
    few = queries_of(lambda: staff_client.get(path))

    # When thirty more are logged, some owned by the colleague
    log(agent, 20, start=3)
    log(colleague, 10, start=23)

    # Then the page costs exactly as many queries
    assert queries_of(lambda: staff_client.get(path)) == few


def test_a_commitment_page_costs_the_same_queries_with_a_long_timeline(staff_client, agent):
    # Given a commitment with its short first timeline
    [commitment] = log(agent, 1)
    path = f"/commitments/{commitment.pk}/"
    staff_client.get(path)
    few = queries_of(lambda: staff_client.get(path))

    # When forty more events land on its timeline, by its owner
    forty_updates(commitment, agent)

    # Then the page costs as many queries, and shows them
    response = staff_client.get(path)
    assert "Update 39" in response.content.decode()
    assert queries_of(lambda: staff_client.get(path)) == few


@pytest.mark.parametrize("query", ["", "?status=open", "?overdue=true"])
def test_the_api_list_costs_the_same_queries_for_3_or_33_commitments(api, agent, query):
    log(agent, 3)
    few = queries_of(lambda: api.get(f"/api/v1/commitments/{query}"))

    log(agent, 30, start=3)

    response = api.get(f"/api/v1/commitments/{query}")
    assert queries_of(lambda: api.get(f"/api/v1/commitments/{query}")) == few
    assert response.json()["count"] == (33 if query != "?overdue=true" else 0)


def test_creating_through_the_api_costs_the_same_few_queries_however_many_exist(
    api, agent, team, django_capture_on_commit_callbacks
):
    def create(n: int):
        body = {
            "customer": {
                "name": f"New {n}",
                "email": f"new{n}@example.com",
                "preferred_channel": "email",
                "timezone": "UTC",
            },
            "summary": "Send the repair estimate",
            "due_at": "2099-01-01T12:00:00+00:00",
        }
        return lambda: api.post("/api/v1/commitments/", body, format="json")

    create(0)()
    first = queries_of(create(1))
    log(agent, 30, start=10)

    assert queries_of(create(2)) == first
    assert Commitment.objects.filter(customer__email="new2@example.com").exists()


# What each page and call costs, held fixed: a query added to one of them shows up here, in review,
# rather than as a slower benchmark. Counted inside the test's transaction, where a transaction of
# the code's own is a savepoint (two statements), and with the caller already signed in (a page's
# session and user, or an API token, are one or two queries more in production).
PAGE_QUERIES = {
    # session, user, the user's teams (zone and scope at once), then the agent's list: the urgency
    # figures with the page's ids and its recently fulfilled ids (one statement), the rows of both
    # (one read); the team list: the figures, the page's ids (one statement whatever parts of the
    # list it spans), its rows
    "/": 5,
    "/team/": 6,
}


@pytest.mark.parametrize(("path", "expected"), PAGE_QUERIES.items())
def test_a_list_page_costs_a_fixed_number_of_queries(staff_client, agent, colleague, path, expected):
    # Given commitments of the agent's, some handed to a colleague, and the colleague's own
    handed = log(agent, 5)
    log(colleague, 5, start=5)
    for commitment in handed[:2]:
        Commitment.objects.filter(pk=commitment.pk).update(assignee=colleague)
    staff_client.get(path)

    # Then the page costs its fixed number of queries, and shows the rows
    assert queries_of(lambda: staff_client.get(path)) == expected
    assert "Customer 4" in staff_client.get(path).content.decode()


def test_the_agents_list_reads_its_recently_fulfilled_in_the_same_queries(staff_client, agent):
    # Given commitments still owed and two fulfilled
    listed = log(agent, 4)
    for commitment in listed[:2]:
        services.fulfil(actor=agent, commitment=commitment, resolution="Sent.")
    staff_client.get("/")

    # Then the list with its fulfilled costs what the list alone does, and shows both
    assert queries_of(lambda: staff_client.get("/")) == PAGE_QUERIES["/"]
    page = staff_client.get("/").content.decode()
    assert "Fulfilled, waiting for the customer to confirm" in page
    assert "Customer 0" in page and "Customer 3" in page


def test_a_commitment_page_costs_a_fixed_number_of_queries(staff_client, agent):
    # session, user, the user's teams, the commitment (with its customer, people, team and who
    # logged it), the team's members (hand-off), open call tasks, the timeline, the messages
    [commitment] = log(agent, 1)
    path = f"/commitments/{commitment.pk}/"
    staff_client.get(path)

    assert queries_of(lambda: staff_client.get(path)) == 8


@pytest.mark.parametrize("query", ["", "?status=open"])
def test_the_api_list_costs_three_queries(api, agent, query):
    # the caller's teams, the count, the page (commitments with their customers)
    log(agent, 3)

    assert queries_of(lambda: api.get(f"/api/v1/commitments/{query}")) == 3


def promise_for_dana(team) -> dict:
    """A promise to a new customer, as the API's create takes it."""
    return {
        "customer": {"name": "Dana", "email": "dana@example.com", "preferred_channel": "email", "timezone": "UTC"},
        "summary": "Send the repair estimate",
        "due_at": "2099-01-01T12:00:00+00:00",
        "team": team.pk,
    }


def test_logging_a_promise_through_the_api_costs_at_most_10_queries(
    api, agent, team, django_capture_on_commit_callbacks
):
    # Given a team with a holiday (its working hours are read with the memberships, not apart)
    from accounts.models import Holiday

    Holiday.objects.create(team=team, date="2099-12-25", name="Christmas")
    body = promise_for_dana(team)

    # When a promise is logged for a new customer, and another for the same customer
    with CaptureQueriesContext(connection) as new_customer:
        first = api.post("/api/v1/commitments/", body, format="json")
    with CaptureQueriesContext(connection) as returning_customer:
        second = api.post("/api/v1/commitments/", {**body, "summary": "Call back"}, format="json")

    # Then each costs the team with its members and holidays (one query), the customer read and
    # written, the commitment, its search words, its timeline, its acknowledgement (its id returned
    # by the insert), and the savepoint's two (in production BEGIN and COMMIT; a token or a session
    # is one or two more)
    assert first.status_code == second.status_code == 201
    assert len(new_customer) == 9, [query["sql"][:80] for query in new_customer]
    assert len(returning_customer) == 9, [query["sql"][:80] for query in returning_customer]
    assert first.json()["customer"]["id"] == second.json()["customer"]["id"]
    assert Commitment.objects.filter(customer__email="dana@example.com").count() == 2


def test_logging_a_promise_with_an_api_token_costs_10_queries(agent, team):
    # Given an integration holding a token, as the benchmark's clients and real integrations call
    from accounts.api_tokens import issue_api_token

    token = APIClient()
    token.credentials(HTTP_AUTHORIZATION=f"Token {issue_api_token(user=agent)}")
    body = promise_for_dana(team)

    # When it logs a promise for a new customer
    with CaptureQueriesContext(connection) as queries:
        response = token.post("/api/v1/commitments/", body, format="json")

    # Then the token with its user is one query more than the nine above: the target is at most 10
    assert response.status_code == 201, response.content
    assert len(queries) == 10, [query["sql"][:80] for query in queries]


def status_updates(commitment, numbers) -> None:
    Notification.objects.bulk_create(
        Notification(
            commitment=commitment,
            kind=MessageKind.STATUS_UPDATE,
            channel="email",
            audience="customer",
            recipient="dana@example.com",
            subject=f"Status update number {n}",
            body="Still on it.",
            status="sent",
            idempotency_key=f"long-history-{n}",
        )
        for n in numbers
    )


def test_a_long_running_promise_shows_its_newest_history_and_links_to_the_rest(staff_client, agent):
    # Given a commitment that has gathered a long history: 40 updates on its timeline, 30 messages
    [commitment] = log(agent, 1)
    path = f"/commitments/{commitment.pk}/"
    staff_client.get(path)
    few = queries_of(lambda: staff_client.get(path))
    forty_updates(commitment, agent)
    status_updates(commitment, range(30))

    # When the agent opens it
    page = staff_client.get(path).content.decode()

    # Then the newest 30 events and 20 messages are there, the oldest not, and links lead to the rest
    assert "Update 39" in page and "Update 10" in page
    assert "Update 9<" not in page and "event-created" not in page  # the oldest: how it was logged
    assert "Status update number 29" in page and "Status update number 10" in page
    assert "Status update number 9<" not in page
    assert "The newest 30 events." in page and "The newest 20 messages." in page
    assert f'href="/commitments/{commitment.pk}/?history=all#timeline-heading">Show the whole timeline' in page
    assert f'href="/commitments/{commitment.pk}/?history=all#messages-heading">Show older messages' in page
    # And it costs no more queries than the short history did
    assert queries_of(lambda: staff_client.get(path)) == few

    # When they follow a link
    whole = staff_client.get(f"{path}?history=all").content.decode()

    # Then the whole timeline is there, oldest first, and every message, with no link for more
    timeline = whole.split('id="timeline"')[1]
    assert timeline.index("event-created") < timeline.index("Update 0<") < timeline.index("Update 39")
    assert "Status update number 0<" in whole and "Status update number 29" in whole
    assert "?history=all" not in whole and "The newest" not in whole


def test_a_move_made_on_the_whole_history_keeps_showing_it(staff_client, agent):
    # Given the whole history of a long-running promise open in the browser
    [commitment] = log(agent, 1)
    forty_updates(commitment, agent)
    page = f"http://testserver/commitments/{commitment.pk}/?history=all"

    # When the agent records a chase there, and htmx swaps in the refreshed panel
    response = staff_client.post(
        f"/commitments/{commitment.pk}/chased/",
        {"channel": "phone", "note": "Called for news."},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=page,
    )

    # Then the panel still holds the whole timeline, the chase last, and no link to what is already there
    assert response.status_code == 200
    panel = response.content.decode()
    assert panel.index("Update 0<") < panel.index("Called for news.")
    assert "Show the whole timeline" not in panel

    # While on the page as it opens, the same move keeps to the newest events
    response = staff_client.post(
        f"/commitments/{commitment.pk}/chased/",
        {"channel": "email", "note": "Wrote in again."},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver/commitments/{commitment.pk}/",
    )
    panel = response.content.decode()
    assert "Update 0<" not in panel and "Wrote in again." in panel and "Show the whole timeline" in panel


def test_the_whole_history_lists_the_newest_100_messages_and_says_so(staff_client, agent):
    # Given a promise with 105 messages
    [commitment] = log(agent, 1)
    status_updates(commitment, range(105))

    # When the agent opens its whole history
    whole = staff_client.get(f"/commitments/{commitment.pk}/?history=all").content.decode()

    # Then the newest 100 are listed, and the page says so rather than offering a link to itself
    assert "Status update number 104" in whole and "Status update number 5<" in whole
    assert "Status update number 4<" not in whole
    assert "The newest 100 messages." in whole and "Show older messages" not in whole
