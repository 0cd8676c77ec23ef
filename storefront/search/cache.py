"""Result caching for search and suggestions that can never serve stale stock.

Only what does not change when an order commits is cached: the ordered product ids of one page
of a search (and the id/title pairs of suggestions). Quantities are always read live for the
page's ids, and searches filtered by ``in_stock`` are not cached at all. Keys carry a catalog
version that product and category writes bump, so catalog edits show up at once too; bulk loads
that bypass signals are covered by the TTL (``SEARCH_CACHE_TTL``).

A cache that is down or failing only costs speed: every error is logged and the caller
computes the value itself.
"""

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

CATALOG_VERSION_KEY = "search:catalog-version"

T = TypeVar("T")


def catalog_version() -> int:
    version = cache.get(CATALOG_VERSION_KEY)
    if version is None:
        # Start from the clock, not 1: if the key was ever evicted, entries cached under the
        # old versions must not become valid again.
        cache.add(CATALOG_VERSION_KEY, time.time_ns() // 1000, timeout=None)
        version = cache.get(CATALOG_VERSION_KEY)
    return int(version)


def catalog_version_bump() -> None:
    """Invalidate every cached search once the current transaction commits."""
    transaction.on_commit(_incr_catalog_version, robust=True)


def _incr_catalog_version() -> None:
    try:
        cache.incr(CATALOG_VERSION_KEY)
    except ValueError:
        pass  # no version yet, so nothing is cached under one
    except Exception:
        logger.warning("search cache: catalog version bump failed", exc_info=True)


def cache_key(namespace: str, params: Mapping[str, Any], version: int) -> str:
    canonical = json.dumps(params, sort_keys=True, default=str, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"search:{namespace}:v{version}:{digest}"


def get_or_compute(namespace: str, params: Mapping[str, Any], compute: Callable[[], T]) -> T:
    """The cached value for ``params``, or ``compute()`` (stored for next time)."""
    try:
        key = cache_key(namespace, params, catalog_version())
        cached = cache.get(key)
    except Exception:
        logger.warning("search cache unavailable; answering uncached", exc_info=True)
        return compute()
    if cached is not None:
        return cached
    value = compute()
    try:
        cache.set(key, value, timeout=settings.SEARCH_CACHE_TTL)
    except Exception:
        logger.warning("search cache write failed", exc_info=True)
    return value
