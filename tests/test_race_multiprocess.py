"""Hundreds of concurrent orders and cancels for the same few products, spread over two gunicorn
servers with two worker processes each (four processes, one PostgreSQL): stock stays exact."""

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.live import app_env
from tests.stock import assert_stock_accounted, products_in_store_1, set_stock

pytestmark = pytest.mark.slow

ORDERS = 300
CANCELS = 40
STOCK = 40


def test_orders_racing_across_processes_and_servers_keep_stock_exact(
    fresh_database, redis_server, start_gunicorn, workdir, seeded_template
):
    database = fresh_database("race")
    redis = redis_server()
    env = app_env(database_url=database.url, redis_url=redis.url(), workdir=workdir)
    servers = [start_gunicorn(env, workers=2), start_gunicorn(env, workers=2)]
    initial = dict.fromkeys(products_in_store_1(database, 4), STOCK)
    set_stock(database, initial)
    confirmed_ids: list[int] = []
    statuses: Counter = Counter()
    lock = threading.Lock()
    start = threading.Barrier(24)

    def place(n: int) -> None:
        if n < 24:
            start.wait()  # the first wave leaves together
        rng = random.Random(n)
        items = [
            {"product_id": product_id, "quantity": rng.randint(1, 3)}
            for product_id in rng.sample(sorted(initial), rng.randint(1, 3))
        ]
        url = servers[n % 2].base_url
        response = requests.post(f"{url}/orders/", json={"store": 1, "items": items}, timeout=60)
        with lock:
            statuses[f"place {response.status_code}"] += 1
            if response.status_code == 201 and response.json()["status"] == "CONFIRMED":
                confirmed_ids.append(response.json()["id"])
        # Every so often staff cancel a confirmed order on the other server, twice at once.
        if n % (ORDERS // CANCELS) == 0 and confirmed_ids:
            with lock:
                order_id = rng.choice(confirmed_ids)
            for server in servers:
                cancelled = requests.post(
                    f"{server.base_url}/orders/{order_id}/cancel/",
                    headers={"Authorization": f"Token {seeded_template.tokens['store1-manager']}"},
                    timeout=60,
                )
                with lock:
                    statuses[f"cancel {cancelled.status_code}"] += 1

    with ThreadPoolExecutor(24) as pool:
        list(pool.map(place, range(ORDERS)))

    assert statuses["place 201"] == ORDERS, statuses
    assert set(statuses) <= {"place 201", "cancel 200", "cancel 409"}, statuses
    by_status = assert_stock_accounted(database, initial)
    assert sum(by_status.values()) == ORDERS
    assert by_status.get("CANCELLED", 0) == statuses["cancel 200"]
    sold = sum(initial.values()) - database.scalar(
        "SELECT sum(quantity) FROM stores_inventory WHERE store_id = 1 AND product_id = ANY(%s)",
        (list(initial),),
    )
    print(f"\nMulti-process race: {dict(statuses)}, orders {by_status}, units sold {sold}")
