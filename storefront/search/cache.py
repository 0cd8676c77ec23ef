"""The search cache: one entry per validated search or suggestion query, in Django's cache
(Redis), holding what was found (ids, count, facets, flags) and never stock.

An entry carries the catalog version it was computed at. Every request reads its rows live in
one query that also returns the current version (selectors.result_rows), and an entry whose
version is not current is computed again: a catalog write by any path moves the version in
the same transaction (sql/search_index.sql), so every web process sees it at its next request.

A cache that is down or failing only costs speed: every error is logged and the caller
computes the value itself.
"""

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


def entry_key(namespace: str, parameters: object) -> str:
    """The key of the entry computed from `parameters` (validated values, with a stable repr)."""
    return f"search:{namespace}:{hashlib.sha256(repr(parameters).encode()).hexdigest()}"


def cached(key: str) -> Any:
    """The entry under `key`, or None when there is none or the cache failed."""
    try:
        return cache.get(key)
    except Exception:
        logger.warning("search cache unavailable; answering uncached", exc_info=True)
        return None


def remember(key: str, value: Any) -> None:
    try:
        cache.set(key, value, timeout=settings.SEARCH_CACHE_TTL)
    except Exception:
        logger.warning("search cache write failed", exc_info=True)
