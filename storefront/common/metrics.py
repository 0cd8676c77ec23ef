"""Prometheus instruments of the web process: requests, database queries, cache operations.

prometheus-client keeps them per process; under gunicorn (gunicorn.conf.py sets
PROMETHEUS_MULTIPROC_DIR before any worker imports this) each worker writes them to files that
the /metrics endpoint adds up (storefront.health.metrics), so a scrape answered by any worker
counts every worker's requests.
"""

import functools
import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django_redis.client import DefaultClient
from prometheus_client import Counter, Histogram

REQUEST_DURATION = Histogram(
    "storefront_http_request_duration_seconds",
    "Requests by route, method and status: `_count` is the number of requests.",
    ["view", "method", "status"],
)
THROTTLED = Counter(
    "storefront_http_throttled_requests", "Requests refused by a rate limit (429).", ["view"]
)
DB_QUERY_DURATION = Histogram(
    "storefront_db_query_duration_seconds", "Database queries run by requests.", ["alias"]
)
CACHE_DURATION = Histogram(
    "storefront_cache_operation_duration_seconds",
    "Cache (Redis) operations through Django's cache API.",
    ["operation"],
)
# Anything else a client sends is counted under "other", so that it cannot grow the label set.
METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"})


def route(request: HttpRequest) -> str:
    """The URL pattern that served the request ("/orders/<int:order_id>/"), not the path."""
    match = request.resolver_match
    return f"/{match.route}" if match is not None else "unmatched"


class MetricsMiddleware:
    """Times every request, and every database query it runs (Django's execute_wrapper)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        with connection.execute_wrapper(_timed_query):
            response = self.get_response(request)
        view = route(request)
        method = request.method if request.method in METHODS else "other"
        REQUEST_DURATION.labels(view, method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        if response.status_code == 429:
            THROTTLED.labels(view).inc()
        return response


def _timed_query(execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
    with DB_QUERY_DURATION.labels(context["connection"].alias).time():
        return execute(sql, params, many, context)


def _timed(operation: str, method: Callable) -> Callable:
    @functools.wraps(method)
    def timed(self: DefaultClient, *args: Any, **kwargs: Any) -> Any:
        with CACHE_DURATION.labels(operation).time():
            return method(self, *args, **kwargs)

    return timed


class TimedRedisClient(DefaultClient):
    """django-redis' client (CACHES OPTIONS CLIENT_CLASS) with its operations timed.

    `add` is a `set` with nx and `set_many` a pipeline of `set`s, so they are timed as `set`;
    the rate limits' Lua scripts run on the raw client and are not timed here.
    """


for _operation in ("get", "get_many", "set", "incr", "delete", "delete_many"):
    setattr(TimedRedisClient, _operation, _timed(_operation, getattr(DefaultClient, _operation)))
