"""Everything that changes stock, at once, on the same products, over two gunicorn servers
with two worker processes each: 500 buyers, restocks (each sent twice with one
Idempotency-Key, to both servers), counts, bulk syncs and adjusts, and double cancels. Then
the ledger adds up, every order's units are in it exactly once, and nothing went wrong."""

import random
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.live import app_env, manage
from tests.stock import assert_ledger_adds_up, products_in_store_1, set_stock

pytestmark = pytest.mark.slow

BUYERS = 500
PRODUCTS = 4
STOCK = 40
WAVE = 24


def test_orders_restocks_counts_bulk_syncs_and_cancels_racing_keep_the_ledger_exact(
    fresh_database, redis_server, start_gunicorn, workdir, seeded_template
):
    database = fresh_database("ledger_race")
    env = app_env(database_url=database.url, redis_url=redis_server().url(), workdir=workdir)
    servers = [start_gunicorn(env, workers=2), start_gunicorn(env, workers=2)]
    products = products_in_store_1(database, PRODUCTS)
    set_stock(database, dict.fromkeys(products, STOCK))
    deadlocks_before = database.scalar(
        "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
    )
    staff = {"Authorization": f"Token {seeded_template.tokens['store1-manager']}"}
    stranger = {"Authorization": f"Token {seeded_template.tokens['store2-manager']}"}
    statuses: Counter = Counter()
    confirmed: list[int] = []
    restock_keys: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(WAVE)

    def call(kind: str, n: int, method: str, path: str, **kwargs) -> requests.Response:
        url = servers[n % 2].base_url
        response = requests.request(method, f"{url}{path}", timeout=60, **kwargs)
        with lock:
            statuses[f"{kind} {response.status_code}"] += 1
        return response

    def buy(n: int, rng: random.Random) -> None:
        items = [
            {"product_id": product_id, "quantity": rng.randint(1, 3)}
            for product_id in rng.sample(products, rng.randint(1, 3))
        ]
        placed = call("place", n, "POST", "/orders/", json={"store": 1, "items": items})
        if placed.status_code == 201 and placed.json()["status"] == "CONFIRMED":
            with lock:
                confirmed.append(placed.json()["id"])

    def restock(n: int, rng: random.Random) -> None:
        key = f"restock-{uuid.uuid4()}"
        body = {"product_id": rng.choice(products), "delta": rng.randint(1, 5), "reason": "restock"}
        with lock:
            restock_keys.append(key)
        for server in (n, n + 1):  # a retry on the other server: one movement
            headers = {**staff, "Idempotency-Key": key}
            call("restock", server, "POST", "/stores/1/inventory/adjustments/", json=body,
                 headers=headers)  # fmt: skip

    def count(n: int, rng: random.Random) -> None:
        path = f"/stores/1/inventory/{rng.choice(products)}/"
        call("count", n, "PUT", path, json={"quantity": rng.randint(0, 30)}, headers=staff)

    def sync(n: int, rng: random.Random) -> None:
        if n % 2:
            lines = [{"product_id": p, "quantity": rng.randint(0, 30)} for p in products]
            body = {"mode": "set", "reason": "count", "lines": lines}
        else:  # may find a row short: 409, nothing written
            lines = [{"product_id": p, "delta": -rng.randint(1, 3)} for p in products]
            body = {"mode": "adjust", "reason": "damage", "lines": lines}
        call("bulk", n, "POST", "/stores/1/inventory/bulk/", json=body, headers=staff)

    def cancel(n: int, rng: random.Random) -> None:
        with lock:
            order_id = rng.choice(confirmed) if confirmed else None
        if order_id is not None:
            for server in (n, n + 1):  # twice at once, on both servers: one cancel
                call("cancel", server, "POST", f"/orders/{order_id}/cancel/", headers=staff)

    def foreign(n: int, rng: random.Random) -> None:
        body = {"product_id": rng.choice(products), "delta": 1, "reason": "restock"}
        call("foreign", n, "POST", "/stores/1/inventory/adjustments/", json=body,
             headers=stranger)  # fmt: skip

    actors = (
        [buy] * BUYERS
        + [restock] * 40
        + [count] * 30
        + [sync] * 20
        + [cancel] * 40
        + [foreign] * 10
    )
    random.Random(7).shuffle(actors)

    def act(n: int) -> None:
        if n < WAVE:
            start.wait()  # the first wave leaves together
        actors[n](n, random.Random(n))

    with ThreadPoolExecutor(WAVE) as pool:
        list(pool.map(act, range(len(actors))))

    expected = {
        "place 201", "restock 201", "count 200", "bulk 200", "bulk 409", "cancel 200",
        "cancel 409", "foreign 403",
    }  # fmt: skip
    assert set(statuses) <= expected, statuses
    assert statuses["place 201"] == BUYERS
    assert statuses["foreign 403"] == 10
    manage("inventory_audit", env=env)  # raises on a non-zero exit
    assert_ledger_adds_up(database)
    assert database.scalar("SELECT count(*) FROM stores_inventory WHERE quantity < 0") == 0
    # Each order's units in the ledger exactly once: a CONFIRMED order's lines as one `order`
    # movement each, a CANCELLED one's also as one `cancel` movement each, a REJECTED none.
    mismatched = database.rows(
        """
        SELECT o.id, o.status, i.product_id, i.quantity, m.taken, m.takes, m.given, m.gives
        FROM orders_order o JOIN orders_orderitem i ON i.order_id = o.id
        LEFT JOIN (
            SELECT order_id, product_id,
                   sum(-delta) FILTER (WHERE reason = 'order') AS taken,
                   count(*) FILTER (WHERE reason = 'order') AS takes,
                   sum(delta) FILTER (WHERE reason = 'cancel') AS given,
                   count(*) FILTER (WHERE reason = 'cancel') AS gives
            FROM inventory_stockmovement WHERE order_id IS NOT NULL
            GROUP BY order_id, product_id
        ) m ON m.order_id = o.id AND m.product_id = i.product_id
        WHERE o.store_id = 1 AND NOT coalesce(CASE o.status
            WHEN 'REJECTED' THEN m.order_id IS NULL
            WHEN 'CONFIRMED' THEN (m.taken, m.takes, m.gives) = (i.quantity, 1, 0)
            ELSE (m.taken, m.takes, m.given, m.gives) = (i.quantity, 1, i.quantity, 1)
        END, false)
        """
    )
    assert mismatched == []
    stray = "SELECT count(*) FROM inventory_stockmovement WHERE reason IN ('order', 'cancel') "
    assert database.scalar(stray + "AND order_id NOT IN (SELECT id FROM orders_order)") == 0
    restocks = database.scalar(
        "SELECT count(*) FROM inventory_stockmovement WHERE reason = 'restock'"
    )
    assert restocks == len(restock_keys) == statuses["restock 201"] // 2
    cancelled = database.scalar("SELECT count(*) FROM orders_order WHERE status = 'CANCELLED'")
    assert cancelled == statuses["cancel 200"]
    deadlocks = database.scalar(
        "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
    )
    assert deadlocks == deadlocks_before
    print(f"\nLedger race: {dict(statuses)}")
