"""Django's Redis cache, with one Redis client per connection pool instead of one per operation.

`django.core.cache.backends.redis.RedisCacheClient.get_client` builds a new `redis.Redis` for every
cache call; building one registers some hundred response callbacks, which cost more CPU than the
round trip (a citizen submission makes five cache calls: rate limit, captcha, rules version). A
`redis.Redis` is safe to share between threads — each command takes a connection from the pool — so
the client is made once per pool and reused. Everything else is Django's."""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class _SharedClientCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._lock = threading.Lock()

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            with self._lock:
                client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class SharedClientRedisCache(RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _SharedClientCacheClient

    def add_and_incr_many(self, keys: list[str], timeout: int) -> list[int]:
        """For each key, `add(key, 0, timeout)` then `incr(key)` — a counter that starts its window at its
        first count — in one round trip (a pipeline) instead of two per key."""
        client = self._cache.get_client(write=True)
        pipe = client.pipeline(transaction=False)
        for key in keys:
            full = self.make_and_validate_key(key)
            pipe.set(full, 0, ex=timeout, nx=True)
            pipe.incr(full)
        return pipe.execute()[1::2]
