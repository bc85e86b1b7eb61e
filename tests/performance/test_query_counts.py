"""The pages and the API cost the same number of queries however many commitments there are.

What ``benchmarks/run.py`` times stays fast only while no query runs per row: each test counts
the queries of one page (or call) with a few commitments, adds many more, and counts again.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from commitments.models import Commitment, TimelineEvent
from tests.factories import customer_details, make_commitment

pytestmark = pytest.mark.django_db


def log(actor, count: int, start: int = 0) -> list[Commitment]:
    return [
        make_commitment(
            actor=actor, customer=customer_details(name=f"Customer {n}", email=f"c{n}@example.com", phone="")
        )
        for n in range(start, start + count)
    ]


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
    TimelineEvent.objects.bulk_create(
        TimelineEvent(commitment=commitment, kind=TimelineEvent.Kind.UPDATE_SENT, actor=agent, message=f"Update {n}")
        for n in range(40)
    )

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
