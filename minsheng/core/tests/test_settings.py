"""Production settings refuse to start with a default or weak secret."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings


def _import_settings(tmp_path, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "SECRET_KEY_FILE", "MINSHENG_ENV"}
    }
    clean.update({"MINSHENG_DATA_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-c", "import minsheng.settings"],
        cwd=settings.BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_secret_key_refuses_to_start(tmp_path):
    result = _import_settings(tmp_path, MINSHENG_ENV="production")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set to a random value of at least 32 characters" in result.stderr


def test_production_with_the_development_key_refuses_to_start(tmp_path):
    result = _import_settings(tmp_path, MINSHENG_ENV="production", SECRET_KEY=settings.DEV_SECRET_KEY)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_production_with_a_short_key_refuses_to_start(tmp_path):
    result = _import_settings(tmp_path, MINSHENG_ENV="production", SECRET_KEY="short-secret")
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_production_with_a_strong_key_from_a_file_starts(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("k" * 50 + "\n", encoding="utf-8")
    result = _import_settings(tmp_path, MINSHENG_ENV="production", SECRET_KEY_FILE=str(secret))
    assert result.returncode == 0, result.stderr


def test_development_starts_with_the_development_key(tmp_path):
    result = _import_settings(tmp_path)
    assert result.returncode == 0, result.stderr


def test_the_redis_cache_reuses_one_client_per_pool_across_threads():
    """One `redis.Redis` per connection pool (Django's own backend builds one per call), shared by
    threads, on the real local Redis."""
    import threading
    import uuid

    from minsheng.core.cache import SharedClientRedisCache

    prefix = f"shared-client-{uuid.uuid4().hex[:8]}"
    cache = SharedClientRedisCache("redis://127.0.0.1:6379/13", {"KEY_PREFIX": prefix})
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client and cache._cache.get_client() is client
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                cache.set(f"k{n}-{i}", i, 60)
                assert cache.get(f"k{n}-{i}") == i
            assert cache.incr(f"k{n}-0", 5) == 5
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == [] and cache._cache.get_client(write=True) is client
    finally:
        keys = client.keys(f"{prefix}:*")  # only this test's keys (never FLUSHDB: tests share the server)
        if keys:
            client.delete(*keys)


def test_the_redis_cache_counts_several_keys_in_one_round_trip():
    """add(key, 0, ttl) then incr(key) for each key, in one pipeline: the window starts at the first count
    and later counts do not extend it; what Django's own get() reads back is the count."""
    import uuid

    from minsheng.core.cache import SharedClientRedisCache

    prefix = f"counters-{uuid.uuid4().hex[:8]}"
    cache = SharedClientRedisCache("redis://127.0.0.1:6379/13", {"KEY_PREFIX": prefix})
    client = cache._cache.get_client(write=True)
    try:
        assert cache.add_and_incr_many(["ip", "phone"], 60) == [1, 1]
        client.expire(cache.make_key("ip"), 5)  # as if most of the window had passed
        assert cache.add_and_incr_many(["ip", "phone"], 60) == [2, 2]
        assert cache.get("ip") == 2 and cache.get_many(["ip", "phone"]) == {"ip": 2, "phone": 2}
        assert client.ttl(cache.make_key("ip")) <= 5 < client.ttl(cache.make_key("phone")) <= 60
    finally:
        keys = client.keys(f"{prefix}:*")
        if keys:
            client.delete(*keys)
