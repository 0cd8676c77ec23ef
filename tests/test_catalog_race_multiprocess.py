"""Retries of one catalog write under one Idempotency-Key, sent at once to two gunicorn servers
with two worker processes each (four processes, one PostgreSQL): written once, every retry
answered with what was written."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.live import app_env, manage

pytestmark = pytest.mark.slow

RETRIES = 16
SUPERUSER = """
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
print(Token.objects.create(user=User.objects.create_superuser("catalog-root")).key)
"""


def test_one_key_creates_one_product_across_processes_and_servers(
    fresh_database, redis_server, start_gunicorn, workdir
):
    database = fresh_database("catalog_race")
    env = app_env(database_url=database.url, redis_url=redis_server().url(), workdir=workdir)
    token = manage("shell", "-c", SUPERUSER, env=env).splitlines()[-1]
    headers = {"Authorization": f"Token {token}", "Idempotency-Key": "catalog-race"}
    servers = [start_gunicorn(env, workers=2), start_gunicorn(env, workers=2)]
    body = {"title": "Race Kettle", "price": "30.00", "category": "Home"}
    start = threading.Barrier(RETRIES)

    def create(n: int) -> requests.Response:
        start.wait()
        url = f"{servers[n % 2].base_url}/api/catalog/products/"
        return requests.post(url, json=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(RETRIES) as pool:
        responses = list(pool.map(create, range(RETRIES)))

    assert [r.status_code for r in responses] == [201] * RETRIES
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == RETRIES - 1
    count = "SELECT count(*) FROM catalog_product WHERE title = %s"
    assert database.scalar(count, ("Race Kettle",)) == 1
