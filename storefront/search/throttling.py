"""Fixed-window rate limit for autocomplete, counted atomically in Redis.

One Lua script increments the window's counter, starts the window's expiry on the first hit and
returns the count with the seconds left, in a single round trip: concurrent requests can neither
lose an increment nor leave a counter without expiry. Without Redis (embedded mode) Django's cache
counts instead (best effort: the database cache's incr is not atomic). A failing counter never
blocks autocomplete: the request is allowed and the failure logged.
"""

import functools
import logging
import time

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from storefront.common.redis import get_redis

logger = logging.getLogger(__name__)

# Returns {count, ttl}. A new counter has no TTL yet (-1): the first hit opens the window.
_HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


def rate_limit_hit(*, key: str, window: int) -> tuple[int, int]:
    """Count one request against `key`; returns (requests in this window, seconds left)."""
    client = get_redis()
    if client is None:
        return _cache_hit(key=key, window=window)
    count, ttl = _hit_script(client)(keys=[key], args=[window])
    return int(count), int(ttl)


@functools.lru_cache(maxsize=4)
def _hit_script(client: redis.Redis) -> "redis.commands.core.Script":
    # Once per client, not per request: the Script object hashes the source and then runs it
    # with EVALSHA (loading it again if Redis was restarted).
    return client.register_script(_HIT_SCRIPT)


def _cache_hit(*, key: str, window: int) -> tuple[int, int]:
    now = time.time()
    window_start = int(now // window * window)
    window_key = f"{key}:{window_start}"
    cache.add(window_key, 0, timeout=window)
    count = cache.incr(window_key)
    return count, max(1, int(window_start + window - now))


class SuggestRateThrottle(BaseThrottle):
    """SUGGEST_RATE_LIMIT requests per SUGGEST_RATE_WINDOW seconds, per user or client IP."""

    def __init__(self) -> None:
        self.retry_after: int | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        key = f"ratelimit:suggest:{self.client_ident(request)}"
        try:
            count, seconds_left = rate_limit_hit(key=key, window=settings.SUGGEST_RATE_WINDOW)
        except Exception:
            logger.warning("suggest rate limit unavailable; allowing request", exc_info=True)
            return True
        if count <= settings.SUGGEST_RATE_LIMIT:
            return True
        self.retry_after = max(1, seconds_left)
        return False

    def wait(self) -> int | None:
        return self.retry_after

    @staticmethod
    def client_ident(request: Request) -> str:
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        # REMOTE_ADDR, not X-Forwarded-For: a client could rotate a forwarded header at will.
        return f"ip:{request.META.get('REMOTE_ADDR', 'unknown')}"
