"""The test suite's settings: the project's own, with every Redis key the suite writes under a
namespace of its own session.

The suite may share a Redis database with other data (REDIS_URL set), so it never flushes one:
the cache, and with it the rate limits and the email dispatch key, writes under KEY_PREFIX, and
the broker's queues under global_keyprefix, both the session's namespace; conftest.py deletes
only keys under it.
"""

import os
import secrets

# Set before the project's settings read CACHE_KEY_PREFIX. Processes the session starts inherit
# both variables: a manage.py command a test runs writes into the session's namespace.
REDIS_KEY_NAMESPACE = os.environ.setdefault("TEST_REDIS_NAMESPACE", f"test-{secrets.token_hex(6)}")
os.environ["CACHE_KEY_PREFIX"] = REDIS_KEY_NAMESPACE
# The suite and the processes it starts read the primary; tests/test_replicas.py gives its own
# servers a standby of their own.
os.environ.pop("DATABASE_REPLICA_URLS", None)

from config.settings import *  # noqa: E402, F403
from config.settings import CELERY_BROKER_TRANSPORT_OPTIONS, DATABASES  # noqa: E402

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "global_keyprefix": f"{REDIS_KEY_NAMESPACE}:",
}

# Two replica aliases for storefront/common/tests/test_replicas.py, unused unless a test names
# them in DATABASE_REPLICAS: one on the test database itself (a mirror, as every replica is in
# tests), one on a port nobody listens on.
DATABASES["replica_test"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
DATABASES["replica_down"] = {
    **DATABASES["default"],
    "HOST": "127.0.0.1",
    "PORT": 1,
    "OPTIONS": {"connect_timeout": 2},
    "TEST": {"MIRROR": "default"},
}
