"""Fixed-window rate limit for autocomplete, counted atomically in Redis.

One Lua script (`storefront.common.cache.RedisCache.hit_and_get_many`) increments the window's
counter, starts the window's expiry on the first hit and returns the count with the seconds
left, in a single round trip that also reads the cached response the request may be answered
with: concurrent requests can neither lose an increment nor leave a counter without expiry.
With another cache backend (embedded mode: the database cache) Django's cache API counts
instead (best effort: the database cache's incr is not atomic). A failing counter never blocks
autocomplete: the request is allowed and the failure logged.
"""

import logging
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle

from storefront.common.cache import RedisCache

logger = logging.getLogger(__name__)


class RateLimitHit(NamedTuple):
    count: int  # requests in this window, this one included
    seconds_left: int  # until the window closes
    entries: dict[str, Any]  # the cache entries read along


def rate_limit_hit(*, key: str, window: int, also_get: Sequence[str] = ()) -> RateLimitHit:
    """Counts one request against `key` and reads the cache entries `also_get`: in one round
    trip when the cache is Redis."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, RedisCache):
        return RateLimitHit(*backend.hit_and_get_many(key, window=window, keys=list(also_get)))
    count, seconds_left = _cache_hit(key=key, window=window)
    return RateLimitHit(count, seconds_left, cache.get_many(also_get) if also_get else {})


def _cache_hit(*, key: str, window: int) -> tuple[int, int]:
    now = time.time()
    window_start = int(now // window * window)
    window_key = f"{key}:{window_start}"
    cache.add(window_key, 0, timeout=window)
    count = cache.incr(window_key)
    return count, max(1, int(window_start + window - now))


class SuggestRateThrottle(BaseThrottle):
    """SUGGEST_RATE_LIMIT requests per SUGGEST_RATE_WINDOW seconds, per user or client IP.

    One instance per request: the request is counted once however often it is asked about, and
    the cache entries `also_get` are read in the same round trip (`entries`; empty when the
    counter failed).
    """

    def __init__(self, also_get: Sequence[str] = ()) -> None:
        self.also_get = also_get
        self.allowed: bool | None = None
        self.retry_after: int | None = None
        self.entries: dict[str, Any] = {}

    def allow_request(self, request: HttpRequest, view: object) -> bool:
        if self.allowed is None:
            self.allowed = self._hit(request)
        return self.allowed

    def wait(self) -> int | None:
        return self.retry_after

    def _hit(self, request: HttpRequest) -> bool:
        key = f"ratelimit:suggest:{self.client_ident(request)}"
        try:
            hit = rate_limit_hit(
                key=key, window=settings.SUGGEST_RATE_WINDOW, also_get=self.also_get
            )
        except Exception:
            logger.warning("suggest rate limit unavailable; allowing request", exc_info=True)
            return True
        self.entries = hit.entries
        if hit.count <= settings.SUGGEST_RATE_LIMIT:
            return True
        self.retry_after = max(1, hit.seconds_left)
        return False

    @staticmethod
    def client_ident(request: HttpRequest) -> str:
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        # REMOTE_ADDR, not X-Forwarded-For: a client could rotate a forwarded header at will.
        return f"ip:{request.META.get('REMOTE_ADDR', 'unknown')}"
