"""Autocomplete rate limit: exact for any span of its window, per user or client IP, failing
open, announced in RateLimit headers."""

import logging
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from storefront.common.proxies import trusted_networks

SUGGEST = reverse("search-suggest")


def suggest(client: APIClient, **extra):
    return client.get(SUGGEST, {"q": "pro"}, **extra)


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("shopper", password="x")


@pytest.fixture
def small_limit(settings):
    settings.SUGGEST_RATE_LIMIT = 3
    settings.SUGGEST_RATE_WINDOW = 60


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_exactly_the_limit_of_50_simultaneous_requests_succeed(catalog_factory):
    catalog_factory.product("Pro Laptop")
    user = get_user_model().objects.create_user("racer", password="x")
    start = threading.Barrier(50)
    statuses: list[int] = []
    lock = threading.Lock()

    def request() -> None:
        client = APIClient()
        client.force_authenticate(user)
        try:
            start.wait()
            status = suggest(client).status_code
            with lock:
                statuses.append(status)
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] * 20 + [429] * 30


def test_over_the_limit_is_a_429_with_retry_after(api_client, user, small_limit):
    api_client.force_authenticate(user)
    assert [suggest(api_client).status_code for _ in range(3)] == [200, 200, 200]
    response = suggest(api_client)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert "throttled" in response.json()["error"]["message"]
    assert 0 < int(response["Retry-After"]) <= 60


def test_invalid_requests_count_too(api_client, user, small_limit):
    api_client.force_authenticate(user)
    for _ in range(3):
        assert api_client.get(SUGGEST, {"q": "x"}).status_code == 400
    assert suggest(api_client).status_code == 429


def test_users_are_limited_separately(user, small_limit):
    other = get_user_model().objects.create_user("other", password="x")
    first, second = APIClient(), APIClient()
    first.force_authenticate(user)
    second.force_authenticate(other)
    for _ in range(3):
        suggest(first)
    assert suggest(first).status_code == 429
    assert suggest(second).status_code == 200


def test_anonymous_clients_are_limited_per_ip(api_client, db, small_limit):
    for _ in range(3):
        assert suggest(api_client, REMOTE_ADDR="10.0.0.1").status_code == 200
    assert suggest(api_client, REMOTE_ADDR="10.0.0.1").status_code == 429
    # A forwarded header cannot buy a fresh budget; only the socket's address counts.
    spoofed = suggest(api_client, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert spoofed.status_code == 429
    assert suggest(api_client, REMOTE_ADDR="10.0.0.2").status_code == 200


def test_behind_a_trusted_proxy_anonymous_clients_are_limited_per_forwarded_address(
    api_client, db, small_limit, settings
):
    settings.TRUSTED_PROXIES = trusted_networks("10.9.0.0/16")
    proxy = {"REMOTE_ADDR": "10.9.0.1"}
    for _ in range(3):
        assert suggest(api_client, **proxy, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 200
    assert suggest(api_client, **proxy, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    # The proxy appends the address it saw; what the client sent stays to the left, unread.
    forged = suggest(api_client, **proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.1")
    assert forged.status_code == 429
    assert suggest(api_client, **proxy, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 200
    # Straight from an untrusted peer, the header is the client's own word: ignored.
    for _ in range(3):
        suggest(api_client, REMOTE_ADDR="198.51.100.3", HTTP_X_FORWARDED_FOR="198.51.100.4")
    assert suggest(api_client, **proxy, HTTP_X_FORWARDED_FOR="198.51.100.4").status_code == 200


def test_a_user_is_not_limited_by_their_ip(api_client, user, small_limit):
    for _ in range(3):
        suggest(api_client, REMOTE_ADDR="10.0.0.1")
    api_client.force_authenticate(user)
    assert suggest(api_client, REMOTE_ADDR="10.0.0.1").status_code == 200


def test_every_log_carries_its_window_expiry(api_client, user, settings):
    settings.SUGGEST_RATE_LIMIT = 1
    settings.SUGGEST_RATE_WINDOW = 1
    api_client.force_authenticate(user)
    assert suggest(api_client).status_code == 200
    assert suggest(api_client).status_code == 429
    redis = get_redis_connection()  # logs are keys of the cache
    key = cache.make_key(f"ratelimit:suggest:user:{user.pk}")
    assert 0 < redis.pttl(key) <= 1000  # the log always carries its expiry
    redis.delete(key)  # what expiry does, without sleeping
    assert suggest(api_client).status_code == 200


def test_no_window_boundary_lets_twice_the_limit_through(api_client, user, settings):
    """A fixed window admits 1 + 2 requests just before its end and 3 more just after it: 5
    within half a second. The sliding log admits 3 in any 2 seconds, wherever they fall."""
    settings.SUGGEST_RATE_LIMIT = 3
    settings.SUGGEST_RATE_WINDOW = 2
    api_client.force_authenticate(user)

    def burst(at: float, size: int) -> list[int]:
        time.sleep(max(0.0, at - (time.monotonic() - start)))
        return [suggest(api_client).status_code for _ in range(size)]

    start = time.monotonic()
    bursts = [burst(0.0, 1), burst(1.5, 4), burst(2.4, 4)]

    # 1.5 s in, two slots are left; at 2.4 s only the first request has left the window.
    assert bursts == [[200], [200, 200, 429, 429], [200, 429, 429, 429]]


def test_rate_limit_headers_count_down(api_client, user, small_limit):
    api_client.force_authenticate(user)
    responses = [suggest(api_client) for _ in range(4)]

    assert [r["RateLimit-Limit"] for r in responses] == ["3"] * 4
    assert [r["RateLimit-Remaining"] for r in responses] == ["2", "1", "0", "0"]
    assert all(0 < int(r["RateLimit-Reset"]) <= 60 for r in responses)
    assert responses[-1].status_code == 429
    assert responses[-1]["Retry-After"] == responses[-1]["RateLimit-Reset"]


def test_redis_down_fails_open_and_logs(api_client, user, small_limit, private_redis, caplog):
    api_client.force_authenticate(user)
    assert [suggest(api_client).status_code for _ in range(4)] == [200, 200, 200, 429]

    private_redis.stop()
    with caplog.at_level(logging.WARNING):
        statuses = [suggest(api_client).status_code for _ in range(5)]
    assert statuses == [200] * 5
    assert "suggest rate limit unavailable; allowing request" in caplog.text
