"""Django's Redis cache backend, minus a client object per call and memcached's key check, plus
a counted read.

``django.core.cache.backends.redis.RedisClient.get_client`` builds a new ``redis.Redis`` for every
cache operation (around 0.1 ms of CPU each: the client's callback tables are rebuilt), which was
a visible share of a cached search. A ``redis.Redis`` is thread-safe and only wraps the shared
connection pool, so one per pool is kept and reused; pools, keys and serialization are Django's.

``hit_and_get_many`` counts a hit on a fixed-window counter and reads cache entries in one round
trip: a rate-limited endpoint answered from the cache (autocomplete) needs no second one.
"""

from typing import Any

from django.core.cache.backends import redis as django_redis
from django.utils.functional import cached_property

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


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = super().get_client(key, write=write)
        return client

    @cached_property
    def _hit_script(self) -> Any:
        # Registered once, not per call: the Script hashes the source, then runs it with EVALSHA
        # (loading it again if Redis was restarted) on the client writes go to.
        return self.get_client(write=True).register_script(_HIT_AND_MGET)

    def hit_and_get_many(
        self, counter: str, window: int, keys: list[str]
    ) -> tuple[int, int, dict[str, Any]]:
        count, ttl, *values = self._hit_script(keys=[counter, *keys], args=[window])
        found = {
            key: self._serializer.loads(value)
            for key, value in zip(keys, values, strict=True)
            if value is not None
        }
        return int(count), int(ttl), found


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def validate_key(self, key: str) -> None:
        """No check: Django's warns about keys memcached would refuse, in a Python loop over
        every character of every key on every call (~10% of a cached search's cache read), and
        Redis takes any key."""

    def hit_and_get_many(
        self, counter: str, *, window: int, keys: list[str]
    ) -> tuple[int, int, dict[str, Any]]:
        """Counts a hit on the fixed-window counter `counter` (a cache key: its window opens with
        its first hit and lasts `window` seconds) and reads `keys` as `get_many` does, atomically
        and in one round trip. Returns the hits in this window, the seconds left in it and the
        entries found."""
        key_map = {self.make_key(key): key for key in keys}
        count, ttl, found = self._cache.hit_and_get_many(
            self.make_key(counter), window, list(key_map)
        )
        return count, ttl, {key_map[key]: value for key, value in found.items()}
