"""Fixed-window rate limit for autocomplete, counted atomically in Redis.

One Lua script increments the window's counter, starts the window's expiry on the first hit
and returns the count with the seconds left, in a single round trip that also reads the cached
response the request may be answered with: concurrent requests can neither lose an increment
nor leave a counter without expiry. It runs on the cache's own Redis client
(`django_redis.get_redis_connection`), on keys and values of the cache: `cache.make_key`
names them, the backend's `client.decode` reads them. A failing counter never blocks
autocomplete: the request is allowed and the failure logged.
"""

import functools
import logging
from collections.abc import Sequence
from typing import Any, NamedTuple, cast

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django_redis import get_redis_connection
from django_redis.cache import RedisCache
from redis import Redis
from redis.commands.core import Script
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

# KEYS[1] is the counter, KEYS[2..] the entries to read; returns {count, seconds left, values...}.
# A new counter has no TTL yet (-1): its first hit opens the window. One script, so concurrent
# hits can neither lose an increment nor leave a counter without expiry.
_HIT_AND_MGET = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
if #KEYS == 1 then
  return {count, ttl}
end
return {count, ttl, unpack(redis.call('MGET', unpack(KEYS, 2)))}
"""


class RateLimitHit(NamedTuple):
    count: int  # requests in this window, this one included
    seconds_left: int  # until the window closes
    entries: dict[str, Any]  # the cache entries read along


def rate_limit_hit(*, key: str, window: int, also_get: Sequence[str] = ()) -> RateLimitHit:
    """Counts one request against the cache key `key` (a fixed window that opens with its first
    hit and lasts `window` seconds) and reads the cache entries `also_get` as `get_many` does,
    atomically and in one round trip. Raises whatever Redis raises."""
    backend = cast(RedisCache, caches[DEFAULT_CACHE_ALIAS])
    names = {backend.make_key(name): name for name in also_get}
    script = _hit_script(get_redis_connection(DEFAULT_CACHE_ALIAS))
    count, ttl, *values = script(keys=[backend.make_key(key), *names], args=[window])
    entries = {
        name: backend.client.decode(value)
        for name, value in zip(names.values(), values, strict=True)
        if value is not None
    }
    return RateLimitHit(int(count), int(ttl), entries)


@functools.lru_cache(maxsize=8)
def _hit_script(client: Redis) -> Script:
    # Registered once per client, not per call: the Script hashes the source, then runs it with
    # EVALSHA (loading it again if Redis was restarted).
    return client.register_script(_HIT_AND_MGET)


class SuggestRateThrottle(BaseThrottle):
    """SUGGEST_RATE_LIMIT requests per SUGGEST_RATE_WINDOW seconds, per user or client IP.

    One instance per request, whose count also reads the cache entries `also_get` in the same
    round trip (`entries`; empty when the counter failed).
    """

    def __init__(self, also_get: Sequence[str] = ()) -> None:
        self.also_get = also_get
        self.retry_after: int | None = None
        self.entries: dict[str, Any] = {}

    def wait(self) -> int | None:
        return self.retry_after

    def allow_request(self, request: Request, view: object) -> bool:
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
    def client_ident(request: Request) -> str:
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        # REMOTE_ADDR, not X-Forwarded-For: a client could rotate a forwarded header at will.
        return f"ip:{request.META.get('REMOTE_ADDR', 'unknown')}"
