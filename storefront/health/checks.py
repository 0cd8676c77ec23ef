"""What readiness checks: each backing service answers (storefront.health.api)."""

import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection

from config.celery_app import app as celery_app


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_cache() -> None:
    # The cache backend swallows nothing here: a down Redis raises ConnectionError.
    probe = f"readyz:{uuid.uuid4().hex}"
    cache.set(probe, "1", timeout=5)
    if cache.get(probe) != "1":
        raise RuntimeError("cache did not return the value just written")
    cache.delete(probe)


def check_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=1)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}
