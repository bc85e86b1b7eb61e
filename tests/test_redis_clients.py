"""Redis as the rate limits' cache and Celery's broker, each through one client kept per pool."""

import base64
import json
from typing import Any

import pytest
import redis
from celery import current_app
from django.conf import settings
from django.core.cache import cache, caches

from followthrough.celery import app
from followthrough.redis_clients import KeptClientRedisCache, KeptClientRedisTransport
from notifications.queueing import enqueue_delivery


@pytest.fixture
def clients_made(monkeypatch):
    """How many redis.Redis clients are made from now on."""
    made = [0]
    make = redis.Redis.__init__

    def counted(self, *args, **kwargs):
        made[0] += 1
        make(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counted)
    return made


def test_the_rate_limits_cache_keeps_one_client_and_works_as_djangos(clients_made):
    # Given the cache the settings choose with Redis as the broker
    assert isinstance(caches["default"], KeptClientRedisCache)

    # When a request's counters are read and written, twice
    for _ in range(2):
        cache.set_many({"throttle_user_1": [1.5, 1.0], "throttle_token_ab": [1.5]}, 60)
        counters = cache.get_many(["throttle_user_1", "throttle_token_ab", "throttle_anon_x"])

    # Then they round trip as before, through the one client made for the pool at first
    assert counters == {"throttle_user_1": [1.5, 1.0], "throttle_token_ab": [1.5]}
    expires_in: int = redis.Redis.from_url(settings.CELERY_BROKER_URL).ttl(cache.make_key("throttle_user_1"))  # type: ignore[assignment]
    assert 0 < expires_in <= 60
    assert clients_made[0] <= 2  # (the one kept, and the one this test reads the expiry with)


@pytest.fixture
def the_apps_own_tasks():
    """Tasks sent through the project's Celery app: another test may have made another one current."""
    previous = current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy, of the current app
    app.set_current()
    yield
    previous.set_current()


def test_delivery_is_enqueued_through_one_kept_client_with_the_same_message(clients_made, the_apps_own_tasks):
    # Given the broker's transport and an empty queue
    broker: Any = app.connection_for_write()
    assert broker.transport_cls == settings.CELERY_BROKER_TRANSPORT
    assert isinstance(broker.transport, KeptClientRedisTransport)
    queue = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    enqueue_delivery([0])  # The process's channel to the broker is opened (with kombu's own client, and ours).
    queue.delete("celery")
    made_before = clients_made[0]

    # When three deliveries are enqueued, as three logged promises do after they commit
    for ids in ([1], [2, 3], [4]):
        enqueue_delivery(ids)

    # Then each waits in the queue as Celery writes a task, and no client was made for any of them
    raw_messages: list[bytes] = queue.lrange("celery", 0, -1)  # type: ignore[assignment]
    queued = [json.loads(raw) for raw in reversed(raw_messages)]
    queue.delete("celery")
    assert [message["headers"]["task"] for message in queued] == ["notifications.tasks.deliver_notifications"] * 3
    assert [json.loads(base64.b64decode(message["body"]))[0] for message in queued] == [[[1]], [[2, 3]], [[4]]]
    assert clients_made[0] == made_before
