"""Django's Redis cache backend, minus a client object per call and memcached's key check.

``django.core.cache.backends.redis.RedisClient.get_client`` builds a new ``redis.Redis`` for every
cache operation (around 0.1 ms of CPU each: the client's callback tables are rebuilt), which was
a visible share of a cached search. A ``redis.Redis`` is thread-safe and only wraps the shared
connection pool, so one per pool is kept and reused; pools, keys and serialization are Django's.
"""

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = super().get_client(key, write=write)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def validate_key(self, key: str) -> None:
        """No check: Django's warns about keys memcached would refuse, in a Python loop over
        every character of every key on every call (~10% of a cached search's cache read), and
        Redis takes any key."""
