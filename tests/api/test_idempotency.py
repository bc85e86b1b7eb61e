"""A POST retried with the same Idempotency-Key acts once and answers the same."""

import threading

import pytest
from django.db import connection

from commitments.models import Commitment, Customer, IdempotentRequest
from notifications.models import Notification
from tests.api.conftest import API, client_for, new_commitment_body


@pytest.mark.django_db
def test_a_retried_create_answers_the_first_answer_and_makes_one_commitment(api):
    body = new_commitment_body()
    headers = {"Idempotency-Key": "3f1c2a9e-5d4b-4c1e-9a77-0c5e8b1d2f60"}

    first = api.post(f"{API}/commitments/", body, format="json", headers=headers)
    retry = api.post(f"{API}/commitments/", body, format="json", headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Commitment.objects.count() == 1
    assert Notification.objects.filter(kind="acknowledgement").count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_request_is_refused_with_a_422(api, commitment):
    headers = {"Idempotency-Key": "key-1"}
    api.post(f"{API}/commitments/", new_commitment_body(), format="json", headers=headers)

    other_body = api.post(
        f"{API}/commitments/", new_commitment_body(summary="Something else"), format="json", headers=headers
    )
    other_call = api.post(
        f"{API}/commitments/{commitment.pk}/updates/", {"message": "On it."}, format="json", headers=headers
    )

    assert other_body.status_code == other_call.status_code == 422
    assert "Idempotency-Key" in other_body.json()["detail"]
    assert Commitment.objects.count() == 2  # the fixture's and the first create
    assert not commitment.events.filter(kind="update_sent").exists()


@pytest.mark.django_db
def test_a_key_belongs_to_its_user(api, api_as, colleague):
    headers = {"Idempotency-Key": "shared-key"}

    mine = api.post(f"{API}/commitments/", new_commitment_body(), format="json", headers=headers)
    theirs = api_as(colleague).post(
        f"{API}/commitments/",
        new_commitment_body(customer={"name": "Eli", "email": "eli@example.com"}),
        format="json",
        headers=headers,
    )

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]


@pytest.mark.django_db
def test_a_refused_request_keeps_no_key_so_the_fixed_retry_goes_through(api):
    headers = {"Idempotency-Key": "fix-and-retry"}

    refused = api.post(f"{API}/commitments/", new_commitment_body(summary=""), format="json", headers=headers)
    fixed = api.post(f"{API}/commitments/", new_commitment_body(summary="Call back"), format="json", headers=headers)

    assert refused.status_code == 400
    assert fixed.status_code == 201
    assert IdempotentRequest.objects.count() == 1


@pytest.mark.django_db
def test_a_retried_action_is_done_once(api, commitment):
    headers = {"Idempotency-Key": "update-1"}

    for _ in range(3):
        response = api.post(
            f"{API}/commitments/{commitment.pk}/updates/", {"message": "On it."}, format="json", headers=headers
        )
        assert response.status_code == 201

    assert commitment.events.filter(kind="update_sent").count() == 1
    assert Notification.objects.filter(commitment=commitment, kind="status_update").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", " ", "x" * 256, "tab\there"])
def test_a_malformed_key_is_a_400(api, key):
    response = api.post(f"{API}/commitments/", new_commitment_body(), format="json", headers={"Idempotency-Key": key})

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert Commitment.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_make_one_commitment(agent):
    # Given an integration that fires the same create from eight threads at once
    body = new_commitment_body()
    client_for(agent)  # the token exists before the threads start
    barrier = threading.Barrier(8)
    answers: list[tuple[int, int]] = []

    def send() -> None:
        try:
            api = client_for(agent)
            barrier.wait()
            response = api.post(f"{API}/commitments/", body, format="json", headers={"Idempotency-Key": "race"})
            answers.append((response.status_code, response.json()["id"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # Then every one of them is told about the same, single commitment
    assert len(answers) == 8
    assert {status for status, _ in answers} == {201}
    assert len({commitment_id for _, commitment_id in answers}) == 1
    assert Commitment.objects.count() == 1
    assert Customer.objects.count() == 1
