"""Schemathesis against the running app: generated requests, valid and not, to every operation.

The app is served by pytest-django's live server (a real HTTP server on the test database); the
schema is read from it as an integrator would. Every answer must be free of server errors and
match the schema: documented status, content type, headers and body. Schemathesis's coverage
phase (boundary values, each kind of wrong input, unexpected methods) runs on every operation
but the two lists, whose many filters multiply into minutes of cases; those get random
examples only. The whole run stays under a minute.
"""

from datetime import timedelta

import pytest
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accounts.api_tokens import issue_api_token
from commitments import services
from tests.factories import make_commitment

EXAMPLES_PER_OPERATION = 5
LISTS = ["commitments_list", "notifications_list"]


@pytest.fixture
def live_api(live_server, transactional_db, agent, colleague, settings):
    """The live app with alex's token, three of his team's commitments, and a generous rate limit."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100000/min", "user": "100000/min", "token": "100000/min"},
    }
    # Generated requests repeat a username many times: the login lockout is tested elsewhere.
    settings.AXES_FAILURE_LIMIT = 100000
    token = issue_api_token(user=agent)
    first = make_commitment(actor=agent)
    second = make_commitment(
        actor=agent,
        customer=services.CustomerDetails(name="Eli Stone", phone="+15555550142", preferred_channel="sms"),
        due_at=timezone.now() + timedelta(hours=3),
    )
    services.wait_on_customer(actor=agent, commitment=second, request="A photo of the label.")
    third = make_commitment(actor=colleague, customer=services.CustomerDetails(name="Fay", email="fay@example.com"))
    return {"url": live_server.url, "token": token, "ids": [first.pk, second.pk, third.pk, 10**9]}


@pytest.fixture
def api_schema(live_api):
    schema = schemathesis.openapi.from_url(f"{live_api['url']}/api/v1/schema/?format=json")
    schema.config.update(base_url=live_api["url"])
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=EXAMPLES_PER_OPERATION,
        # Keep the token we send: made-up Authorization values only ever test the 401.
        with_security_parameters=False,
    )
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")
quick = settings(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))


def call_and_check(case, live_api) -> None:
    # Aim most ids at commitments that exist, so the calls get past the 404 and do real work.
    if isinstance(case.path_parameters, dict) and isinstance(case.path_parameters.get("id"), int):
        ids = live_api["ids"]
        case.path_parameters["id"] = ids[case.path_parameters["id"] % len(ids)]
    # The token goes with each call (not in the schema's config), so the authentication check can
    # take it away again and see a 401. A body that is valid by the schema may still break a rule
    # (a due time in the past): a 400 for it is right, so "valid data must be accepted" is left out.
    case.call_and_validate(
        headers={"Authorization": f"Token {live_api['token']}"},
        excluded_checks=[positive_data_acceptance],
        timeout=10,
    )


@pytest.mark.live
@settings(quick, max_examples=EXAMPLES_PER_OPERATION, phases=[Phase.explicit, Phase.generate])
@schema.exclude(operation_id=LISTS).parametrize()
def test_no_generated_request_gets_a_server_error_or_an_answer_off_the_schema(case, live_api):
    call_and_check(case, live_api)


@pytest.mark.live
@settings(quick, max_examples=3 * EXAMPLES_PER_OPERATION, phases=[Phase.generate])
@schema.include(operation_id=LISTS).parametrize()
def test_no_generated_list_filter_gets_a_server_error_or_an_answer_off_the_schema(case, live_api):
    call_and_check(case, live_api)
