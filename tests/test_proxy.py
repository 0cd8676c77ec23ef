"""Behind a real load balancer (nginx, round-robin over two gunicorn servers sharing one
database and Redis), per-client limits count each client, not the proxy, and no forged
X-Forwarded-For, through the proxy or straight to gunicorn, buys a fresh budget.

Clients are told apart by their source address on the loopback network (127.0.0.2, .3, .4);
nginx reaches gunicorn from 127.0.0.1, the one trusted proxy.
"""

import http.client
from urllib.parse import urlsplit

import pytest

from tests.live import Nginx, app_env, wait_until

LIMIT = 4
CLIENT_A, CLIENT_B, CLIENT_C = "127.0.0.2", "127.0.0.3", "127.0.0.4"


def suggest(base_url: str, source: str, forwarded: str | None = None) -> int:
    """GET suggest from `source`, optionally with our own X-Forwarded-For; the status."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=30, source_address=(source, 0)
    )
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    try:
        conn.request("GET", "/api/search/suggest/?q=pro", headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@pytest.fixture
def balanced(fresh_database, redis_server, start_gunicorn, workdir):
    """nginx in front of two gunicorn servers (one worker each) that trust 127.0.0.1 only."""
    env = app_env(
        database_url=fresh_database("proxy").url,
        redis_url=redis_server().url(),
        workdir=workdir,
        TRUSTED_PROXIES="127.0.0.1/32",
        SUGGEST_RATE_LIMIT=str(LIMIT),
        SUGGEST_RATE_WINDOW="300",
    )
    servers = [start_gunicorn(env, workers=1), start_gunicorn(env, workers=1)]
    proxy = Nginx([server.base_url for server in servers], workdir)
    try:
        yield proxy.start(), servers
    finally:
        proxy.stop()


def test_clients_behind_the_proxy_have_their_own_limits_and_cannot_forge_one(balanced):
    proxy, servers = balanced

    # A exhausts its limit through the proxy, answered by both servers; B is untouched.
    assert [suggest(proxy.base_url, CLIENT_A) for _ in range(LIMIT + 1)] == [200] * LIMIT + [429]
    # nginx logs a request just after answering it: wait for every line.
    wait_until(lambda: len(proxy.access_log()) >= LIMIT + 1, timeout=10, what="nginx's log")
    answered_a = {upstream for client, upstream, _, _ in proxy.access_log() if client == CLIENT_A}
    assert answered_a == {urlsplit(server.base_url).netloc for server in servers}
    assert suggest(proxy.base_url, CLIENT_B) == 200

    # Through the proxy a forged header is only the left of the one it sends: A stays limited,
    # whether it names a stranger, B, or the trusted proxy itself.
    for forged in ("198.51.100.7", CLIENT_B, "127.0.0.1"):
        assert suggest(proxy.base_url, CLIENT_A, forwarded=forged) == 429
    # What gunicorn was told.
    told = f'"127.0.0.1, {CLIENT_A}"'
    wait_until(
        lambda: told in [line[3] for line in proxy.access_log()], timeout=10, what="nginx's log"
    )

    # Straight to gunicorn the header is ignored: A is still A, on either server...
    for server in servers:
        assert suggest(server.base_url, CLIENT_A, forwarded="198.51.100.8") == 429
    # ...and C, naming B or a new address on every request, spends its own budget, not B's.
    forged_each_time = [
        suggest(servers[n % 2].base_url, CLIENT_C, forwarded=f"{CLIENT_B}, 198.51.100.{n}")
        for n in range(LIMIT + 1)
    ]
    assert forged_each_time == [200] * LIMIT + [429]
    assert [suggest(proxy.base_url, CLIENT_B) for _ in range(LIMIT - 1)] == [200] * (LIMIT - 1)
    assert suggest(proxy.base_url, CLIENT_B) == 429
