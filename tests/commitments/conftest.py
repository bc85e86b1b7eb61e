"""What the commitments tests share: a fixed moment, and the agent signed in."""

import pytest
import time_machine
from django.utils import timezone


@pytest.fixture
def now():
    with time_machine.travel("2025-11-24 15:00:00Z", tick=False):
        yield timezone.now()


@pytest.fixture
def signed_in(client, agent):
    client.force_login(agent)
    return client
