"""An API call's token is found with its whole user, as the ORM would read them (``live_token``)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.api_tokens import digest_of, issue_api_token, live_token
from accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def fields_of(instance: object) -> dict[str, object]:
    return {name: value for name, value in vars(instance).items() if not name.startswith("_")}


def test_a_live_token_comes_with_its_whole_user_as_the_orm_reads_them(agent, colleague):
    # Given a token of each of two people, and one of them expired
    token = issue_api_token(user=agent)
    expired = issue_api_token(user=colleague)
    ApiToken.objects.filter(digest=digest_of(expired)).update(expires_at=timezone.now() - timedelta(seconds=1))
    now = timezone.now()

    # When the live token is looked up
    found = live_token(digest_of(token), now=now)

    # Then it is the token with its user, every field as the ORM reads them
    expected = ApiToken.objects.select_related("user").get(digest=digest_of(token))
    assert found is not None
    assert fields_of(found) == fields_of(expected)
    assert fields_of(found.user) == fields_of(expected.user)
    assert found.user.display_name == "Alex Rivera"
    # And an expired or unknown token is none
    assert live_token(digest_of(expired), now=now) is None
    assert live_token(digest_of("no such token"), now=now) is None
