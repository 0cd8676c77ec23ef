"""`make test` against a Redis that holds other data: the suite deletes and leaves only keys of
its own session (tests/settings.py), never FLUSHDB.

Runs some of the suite's tests in a pytest session of their own, on a private redis-server whose
session database and database 0 hold sentinel keys named like the keys the suite writes (another
deployment's cache, rate limit and email dispatch keys, a broker queue). The tests chosen clear
the cache before each test, count rate limits, hold the email dispatch key and publish tasks to
the session's broker.
"""

import os
import subprocess

import pytest
import redis

from tests.live import BIN, REPO, RedisServer, live_database_prefix, with_database

pytestmark = pytest.mark.slow

INNER_TESTS = [
    "storefront/search/tests/test_throttling.py",
    "storefront/orders/tests/test_concurrency.py::"
    "test_simultaneous_retries_with_one_idempotency_key_place_one_order",
    "storefront/notifications/tests/test_batching.py::"
    "test_a_burst_of_orders_publishes_one_task_and_every_email_goes_out_once",
]
SESSION_DB = 3
SENTINELS = {
    "sentinel": b"written outside the test session",
    "storefront:1:search:catalog-version": b"41",
    "storefront:1:notifications:order-emails:dispatch": b"1",
    "storefront:1:ratelimit:suggest:user:1": b"not a sorted set",
}
QUEUE = "celery"  # a broker's queue, with a message of somebody else's
MESSAGE = b'{"task": "not ours"}'


def plant_sentinels(client: redis.Redis) -> None:
    client.mset(SENTINELS)
    client.rpush(QUEUE, MESSAGE)


def assert_only_sentinels(client: redis.Redis) -> None:
    assert set(client.keys()) == {name.encode() for name in [*SENTINELS, QUEUE]}
    assert client.mget(list(SENTINELS)) == list(SENTINELS.values())
    assert client.lrange(QUEUE, 0, -1) == [MESSAGE]


def run_inner_session(redis_url: str) -> subprocess.CompletedProcess:
    """The tests above in a pytest session of their own, on a database of its own."""
    env = {
        key: value
        for key, value in os.environ.items()
        # A new session: its own namespace and settings, not this session's.
        if key not in {"TEST_REDIS_NAMESPACE", "CACHE_KEY_PREFIX", "DJANGO_SETTINGS_MODULE"}
        and not key.startswith(("PYTEST_", "COV_CORE_"))
    }
    inner_database = f"{live_database_prefix()}_inner"  # pytest-django's is test_<that>
    env["DATABASE_URL"] = with_database(os.environ["DATABASE_URL"], inner_database)
    env["REDIS_URL"] = redis_url
    args = [str(BIN / "python"), "-m", "pytest", *INNER_TESTS]
    args += ["-q", "--no-cov", "-p", "no:cacheprovider", "--create-db"]
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def test_a_test_session_keeps_every_key_it_did_not_write_and_leaves_none(tmp_path):
    server = RedisServer(tmp_path).start()
    try:
        session_db = redis.Redis.from_url(server.url(SESSION_DB))
        other_db = redis.Redis.from_url(server.url(0))
        plant_sentinels(session_db)
        plant_sentinels(other_db)

        done = run_inner_session(server.url(SESSION_DB))

        assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
        assert_only_sentinels(session_db)
        assert_only_sentinels(other_db)
        calls = {
            name.removeprefix("cmdstat_"): stats["calls"]
            for name, stats in session_db.info("commandstats").items()
        }
        # It did use this Redis, as the suite does: cache entries, rate-limit scripts, the
        # dispatch key, published tasks, and the deletes of its own keys.
        assert {"set", "evalsha", "lpush", "scan", "del"} <= calls.keys(), calls
        assert not {"flushdb", "flushall"} & calls.keys(), calls
    finally:
        server.close()
