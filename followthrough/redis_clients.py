"""Redis, as the rate limits' cache and as Celery's broker, through one client kept per connection pool.

Django's Redis cache and kombu's Redis channel both make a new ``redis.Redis`` for every command
they send, and making one fills its table of some 150 reply handlers: logging a promise (two
rate-limit round trips, one enqueue) spent as long making three clients as sending the commands.
A client holds no connection of its own (it borrows one from its pool for each command) and is
safe to share between threads, so one per pool does the same work. Connections, pools, timeouts
and retries are exactly theirs.
"""

from typing import Any

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from kombu.transport import redis as kombu_redis  # type: ignore[attr-defined]  # not in celery-types' stubs


class _KeptClientCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept: dict[int, redis.Redis] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> redis.Redis:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._kept.get(id(pool))
        if client is None or client.connection_pool is not pool:
            client = self._kept[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class KeptClientRedisCache(RedisCache):
    """Django's Redis cache (``django.core.cache.backends.redis.RedisCache``), one client per pool."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _KeptClientCacheClient


class _KeptClientChannel(kombu_redis.Channel):
    _kept_client: redis.Redis | None = None

    def _create_client(self, asynchronous: bool = False) -> redis.Redis:
        if asynchronous:  # A worker's consuming client: kombu keeps that one itself.
            return super()._create_client(asynchronous=True)
        pool = self.pool  # Made anew after the channel lost its connection: the client follows it.
        client = self._kept_client
        if client is None or client.connection_pool is not pool:
            client = self._kept_client = self.Client(connection_pool=pool)
        return client


class KeptClientRedisTransport(kombu_redis.Transport):
    """kombu's Redis transport (``redis://``), each channel sending through one kept client."""

    Channel = _KeptClientChannel
