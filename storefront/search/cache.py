"""Result caching for search and suggestions that can never serve stale stock.

One layer: responses, keyed by their query string (storefront.search.api). Only what does not
change when an order commits is cached: a rendered search page without its quantities, and
suggestions. Quantities are always read live for the page's ids, and searches filtered by
``in_stock`` are not cached at all (``cacheable``, the one place that rule is written). Each
entry records the catalog version it was computed under, which product and category writes bump,
so catalog edits show up at once too; bulk loads that bypass signals are covered by the TTL
(``SEARCH_CACHE_TTL``). The version and the entry are read together in one MGET, so a hit costs
one cache round trip; a search response read in the last second (``SEARCH_PROCESS_CACHE_MS``) is
reused by the process without one (``RecentEntries``), so a catalog edit made through another
process can take that long to show.

A cache that is down or failing only costs speed: every error is logged and the caller computes
the value itself.
"""

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeVar

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
    recent_responses.clear()
    try:
        cache.incr(CATALOG_VERSION_KEY)
    except ValueError:
        pass  # no version yet, so nothing is cached under one
    except Exception:
        logger.warning("search cache: catalog version bump failed", exc_info=True)


class Lookup(NamedTuple):
    key: str
    value: Any  # None on a miss
    version: int | None  # the current catalog version, when the cache knows it


def text_key(namespace: str, text: str) -> str:
    """The key of an entry computed from ``text`` alone (a query string as sent)."""
    return f"search:{namespace}:{hashlib.sha256(text.encode()).hexdigest()}"


def cacheable(*, in_stock: bool) -> bool:
    """Whether a search's response may be stored. A stock filter decides which products are on
    the page, and it must see every order the moment it commits, so in_stock is never cached;
    every other response is (its `store_quantity` is read live on each hit)."""
    return not in_stock


def lookup(key: str) -> Lookup:
    """The entry under ``key`` if it was computed under the current catalog version.

    Raises whatever the cache raises; callers fall back to computing.
    """
    return lookup_in(key, cache.get_many(lookup_keys(key)))


def lookup_keys(key: str) -> list[str]:
    """What a lookup of ``key`` reads, for callers that read it along with something else."""
    return [CATALOG_VERSION_KEY, key]


def lookup_in(key: str, found: Mapping[str, Any]) -> Lookup:
    """The lookup of ``key`` from ``found``, what the cache returned for ``lookup_keys(key)``."""
    version = found.get(CATALOG_VERSION_KEY)
    entry = found.get(key)
    if version is None or entry is None or entry[0] != version:
        return Lookup(key, None, version)
    return Lookup(key, entry[1], version)


def remember(found: Lookup, value: Any) -> None:
    """Stores ``value`` under the version seen by the lookup: if the catalog changed while the
    value was computed, the entry is already outdated and is never served."""
    try:
        version = catalog_version() if found.version is None else found.version
        cache.set(found.key, (version, value), timeout=settings.SEARCH_CACHE_TTL)
    except Exception:
        logger.warning("search cache write failed", exc_info=True)


class RecentEntries:
    """Entries this process read from the cache recently, reused for SEARCH_PROCESS_CACHE_MS
    without a round trip to it. A catalog edit committed by this process clears them at once
    (`_incr_catalog_version`); one committed by another process shows once they expire.

    Shared by the threads of the process: each operation is one dict call, atomic under the GIL.
    """

    MAX_ENTRIES = 1000  # more than that within the time they are kept: start afresh

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: dict[str, tuple[float, Lookup]] = {}
        self._clock = clock

    def get(self, key: str) -> Lookup | None:
        kept = self._entries.get(key)
        if kept is None:
            return None
        expires_at, found = kept
        if expires_at <= self._clock():
            self._entries.pop(key, None)
            return None
        return found

    def keep(self, found: Lookup) -> None:
        """Keeps a hit (a miss is not kept)."""
        lifetime = settings.SEARCH_PROCESS_CACHE_MS / 1000
        if found.value is None or lifetime <= 0:
            return
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[found.key] = (self._clock() + lifetime, found)

    def clear(self) -> None:
        self._entries.clear()


# Search responses (storefront.search.api), whose hits then read only the live stock.
recent_responses = RecentEntries()
