"""Rate limits that hold for any span of `window` seconds, exactly, under any concurrency.

Each limited key is a sliding log in Redis: a sorted set of the times of the requests it let
through. One Lua script drops the entries older than the window, counts the rest, records this
request if there is room. Redis runs
a script alone and stamps it with its own clock (TIME), so concurrent requests from any number
of web processes are counted exactly and never judged by clocks that disagree. A refused
request is not recorded: hammering while limited does not extend the wait. A request that
turns out not to count (a correct login, under a limit of failures) gives its entry back.

Keys are the cache's (`cache.make_key`); the script runs on the cache's own Redis client
(`django_redis.get_redis_connection`).
"""

import contextlib
import functools
import logging
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django_redis import get_redis_connection
from django_redis.cache import RedisCache
from redis import Redis
from redis.commands.core import Script
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

logger = logging.getLogger(__name__)

# KEYS[1]: the log.
# ARGV: window (ms), limit, member (this request's entry, recorded if there is room).
# Returns {recorded (0/1), entries in the window, ms until the oldest leaves it}.
_SLIDING_LOG = """
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local window, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local recorded = 0
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  count = count + 1
  recorded = 1
end
local reset = 0
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] then
  reset = tonumber(oldest[2]) + window - now
end
return {recorded, count, reset}
"""


@dataclass(frozen=True)
class RateLimit:
    limit: int
    window: int  # seconds


@dataclass(frozen=True)
class Verdict:
    allowed: bool  # this request was within the limit, and recorded
    limit: int
    remaining: int  # requests still allowed in the window after this one
    reset: int  # seconds until the oldest request leaves the window (a slot frees)
    entry: str = ""  # this request's entry in the log (if allowed), for rate_limit_release


def rate_limit_hit(key: str, rate: RateLimit) -> Verdict:
    """Counts a request against the cache key `key` if the limit has room for it, in one atomic
    round trip. Raises whatever Redis raises: the caller decides to fail open or not."""
    backend = cast(RedisCache, caches[DEFAULT_CACHE_ALIAS])
    script = _script(get_redis_connection(DEFAULT_CACHE_ALIAS))
    entry = uuid.uuid4().hex
    recorded, in_window, reset_ms = script(
        keys=[backend.make_key(key)], args=[rate.window * 1000, rate.limit, entry]
    )
    in_window = int(in_window)
    return Verdict(
        allowed=bool(recorded),
        limit=rate.limit,
        remaining=max(rate.limit - in_window, 0),
        reset=max(1, math.ceil(int(reset_ms) / 1000)) if in_window else 0,
        entry=entry if recorded else "",
    )


def rate_limit_release(key: str, verdict: Verdict) -> None:
    """Gives back the slot that `verdict`, an allowed count against `key`, took: the request
    turned out not to count. Raises whatever Redis raises."""
    if verdict.entry:
        backend = cast(RedisCache, caches[DEFAULT_CACHE_ALIAS])
        get_redis_connection(DEFAULT_CACHE_ALIAS).zrem(backend.make_key(key), verdict.entry)


class RateLimitedApi(APIView):
    """An APIView whose answers (429s included) carry the IETF draft's RateLimit-Limit,
    RateLimit-Remaining and RateLimit-Reset (seconds until a slot frees) of the limit that
    `announced_limit` returns: this request's verdict, or None when nothing was counted."""

    def announced_limit(self) -> Verdict | None:
        raise NotImplementedError

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        verdict = self.announced_limit()
        if verdict is not None:
            response["RateLimit-Limit"] = str(verdict.limit)
            response["RateLimit-Remaining"] = str(verdict.remaining)
            response["RateLimit-Reset"] = str(verdict.reset)
        return response


def rate_limit_hit_or_allow(name: str, key: str, rate: RateLimit) -> Verdict | None:
    """`rate_limit_hit`, failing open: None when Redis cannot count (logged under the limit's
    `name`), and the caller lets the request through. A limit must never take an endpoint
    down with Redis."""
    with _failing_open(name, "allowing request"):
        return rate_limit_hit(key, rate)
    return None


def rate_limit_release_or_keep(name: str, key: str, verdict: Verdict) -> None:
    """`rate_limit_release`, failing open: when Redis cannot (logged), the slot stays taken
    until it leaves the window, and the request still succeeds."""
    with _failing_open(name, "slot kept"):
        rate_limit_release(key, verdict)


@contextlib.contextmanager
def _failing_open(name: str, outcome: str) -> Iterator[None]:
    try:
        yield
    except Exception:
        logger.warning("%s rate limit unavailable; %s", name, outcome, exc_info=True)


@functools.lru_cache(maxsize=8)
def _script(client: Redis) -> Script:
    # Registered once per client, not per call: the Script hashes the source, then runs it with
    # EVALSHA (loading it again if Redis was restarted).
    return client.register_script(_SLIDING_LOG)
