from functools import cache

import redis
from django.conf import settings


@cache
def get_redis() -> redis.Redis | None:
    """The shared Redis client, or None in embedded mode (no REDIS_URL)."""
    if not settings.REDIS_URL:
        return None
    return redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT,
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
    )
