"""PostgreSQL connections dropped in the middle of orders (a TCP proxy between gunicorn and the
database closes every socket): clients get a clean JSON 503, never a half-written order, and
retrying with the same Idempotency-Key yields exactly one order."""

import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from tests.live import TcpProxy, app_env, wait_until, with_database
from tests.stock import assert_stock_accounted, products_in_store_1, set_stock

pytestmark = pytest.mark.slow


def _proxied(database) -> tuple[TcpProxy, str]:
    parts = urlsplit(database.url)
    proxy = TcpProxy(database.server_address())
    proxied = parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}").geturl()
    return proxy, with_database(proxied, database.name)


def _connections_waiting_on_locks(database) -> int:
    return database.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
        (database.name,),
    )


def test_connection_dropped_while_the_order_waits_on_a_stock_lock(
    fresh_database, redis_server, start_gunicorn, workdir
):
    database = fresh_database("pg_cut")
    redis = redis_server()
    proxy, proxied_url = _proxied(database)
    try:
        server = start_gunicorn(
            app_env(database_url=proxied_url, redis_url=redis.url(), workdir=workdir), workers=1
        )
        (product_id,) = products_in_store_1(database, 1)
        set_stock(database, {product_id: 5})
        body = {"store": 1, "items": [{"product_id": product_id, "quantity": 2}]}
        headers = {"Idempotency-Key": f"cut-{uuid.uuid4()}"}
        answer: dict[str, requests.Response] = {}

        with database.connect() as holder:  # a slow transaction holding the stock row
            holder.execute("BEGIN")
            holder.execute(
                "SELECT 1 FROM stores_inventory WHERE store_id = 1 AND product_id = %s FOR UPDATE",
                (product_id,),
            )
            client = threading.Thread(
                target=lambda: answer.setdefault(
                    "first",
                    requests.post(
                        f"{server.base_url}/orders/", json=body, headers=headers, timeout=60
                    ),
                )
            )
            client.start()
            wait_until(
                lambda: _connections_waiting_on_locks(database) == 1,
                timeout=30,
                what="the order to wait on the stock row lock",
            )
            assert proxy.cut() >= 2  # the order's connection, both directions
            client.join(timeout=60)
            holder.execute("ROLLBACK")

        first = answer["first"]
        assert first.status_code == 503
        assert first.headers["Content-Type"] == "application/json"
        assert first.json()["error"]["code"] == "service_unavailable"
        # The statement was already on the server, waiting for the row. Once the holder left
        # it either committed as a whole (order, items, stock, key; on PostgreSQL the order is
        # one autocommit statement) though nobody heard the answer, or died with its
        # connection and left nothing: never anything in between.
        wait_until(
            lambda: (
                database.scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state <> 'idle' "
                    "AND pid <> pg_backend_pid()",
                    (database.name,),
                )
                == 0
            ),
            timeout=30,
            what="the orphaned statement to end",
        )
        orphan = assert_stock_accounted(database, {product_id: 5})
        assert orphan in ({}, {"CONFIRMED": 1})
        keys = database.scalar("SELECT count(*) FROM orders_idempotencykey")
        assert keys == sum(orphan.values())

        # A 503 means "outcome unknown": the retry with the same key gets exactly one order.
        retry = requests.post(f"{server.base_url}/orders/", json=body, headers=headers, timeout=30)
        assert retry.status_code == 201 and retry.json()["status"] == "CONFIRMED"
        replayed = retry.headers.get("Idempotent-Replayed") == "true"
        assert replayed == (orphan == {"CONFIRMED": 1})
        assert assert_stock_accounted(database, {product_id: 5}) == {"CONFIRMED": 1}
        print(
            f"\norder whose client was cut: {'committed, replayed' if replayed else 'rolled back'}"
        )
    finally:
        proxy.close()


def test_orders_under_repeated_connection_cuts_lose_nothing(
    fresh_database, redis_server, start_gunicorn, workdir
):
    database = fresh_database("pg_cuts")
    redis = redis_server()
    proxy, proxied_url = _proxied(database)
    clients, initial = 60, {}
    statuses: list[int] = []
    replays: list[int] = []
    stop_cutting = threading.Event()

    def cut_repeatedly() -> None:
        rng = random.Random(7)
        while not stop_cutting.wait(rng.uniform(0.05, 0.3)):
            proxy.cut()

    def order_until_answered(n: int) -> dict:
        rng = random.Random(n)
        items = [
            {"product_id": product_id, "quantity": rng.randint(1, 3)}
            for product_id in rng.sample(sorted(initial), rng.randint(1, 3))
        ]
        headers = {"Idempotency-Key": f"client-{n}-{uuid.uuid4()}"}
        for _ in range(100):
            try:
                response = requests.post(
                    f"{server.base_url}/orders/",
                    json={"store": 1, "items": items},
                    headers=headers,
                    timeout=30,
                )
            except requests.ConnectionError:  # never expected: gunicorn itself is fine
                statuses.append(0)
                continue
            statuses.append(response.status_code)
            assert response.headers["Content-Type"] == "application/json"
            if response.status_code == 201:
                if response.headers.get("Idempotent-Replayed") == "true":
                    replays.append(n)  # an earlier attempt committed but its answer was lost
                return {"key": headers["Idempotency-Key"], **response.json()}
            assert response.status_code == 503, response.text[:300]
            time.sleep(0.05)
        raise AssertionError("an order never got through")

    try:
        server = start_gunicorn(
            app_env(database_url=proxied_url, redis_url=redis.url(), workdir=workdir)
        )
        initial = dict.fromkeys(products_in_store_1(database, 3), 25)
        set_stock(database, initial)
        cutter = threading.Thread(target=cut_repeatedly, daemon=True)
        cutter.start()
        with ThreadPoolExecutor(12) as pool:
            placed = list(pool.map(order_until_answered, range(clients)))
        stop_cutting.set()
        cutter.join()
    finally:
        proxy.close()

    assert 0 not in statuses
    assert statuses.count(201) == clients
    assert statuses.count(503) > 0  # the cuts really hit requests
    by_status = assert_stock_accounted(database, initial)
    # One order per client, whatever its retries: ambiguous commits were replayed, not doubled.
    assert sum(by_status.values()) == clients
    assert database.scalar("SELECT count(*) FROM orders_idempotencykey") == clients
    assert len({order["id"] for order in placed}) == clients
    print(
        f"\nPostgreSQL cuts: {proxy.cuts} cuts, {len(statuses)} requests, "
        f"{statuses.count(503)} answered 503, {len(replays)} replayed, orders {by_status}"
    )


def test_database_unreachable_is_a_json_503_and_not_ready_until_it_is_back(
    fresh_database, redis_server, start_gunicorn, workdir
):
    database = fresh_database("pg_down")
    redis = redis_server()
    proxy, proxied_url = _proxied(database)
    try:
        server = start_gunicorn(
            app_env(database_url=proxied_url, redis_url=redis.url(), workdir=workdir)
        )
        url = server.base_url
        (product_id,) = products_in_store_1(database, 1)
        set_stock(database, {product_id: 3})
        order = {"store": 1, "items": [{"product_id": product_id, "quantity": 1}]}

        proxy.refuse()  # every connection dropped, new ones refused: PostgreSQL is gone
        answers = [
            requests.post(f"{url}/orders/", json=order, timeout=30),
            requests.get(f"{url}/api/search/products/?q=zzz-uncached", timeout=30),
            requests.get(f"{url}/stores/1/inventory/", timeout=30),
        ]
        for answer in answers:
            assert answer.status_code == 503, answer.text[:300]
            assert answer.json()["error"]["code"] == "service_unavailable"
            assert answer.headers["Retry-After"] == "1"
        ready = requests.get(f"{url}/readyz", timeout=30)
        assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("down")
        assert requests.get(f"{url}/healthz", timeout=30).status_code == 200  # alive, not ready

        proxy.resume()
        wait_until(
            lambda: requests.get(f"{url}/readyz", timeout=30).status_code == 200,
            timeout=30,
            what="readiness after PostgreSQL came back",
        )
        placed = requests.post(f"{url}/orders/", json=order, timeout=30)
        assert placed.status_code == 201 and placed.json()["status"] == "CONFIRMED"
        assert assert_stock_accounted(database, {product_id: 3}) == {"CONFIRMED": 1}
    finally:
        proxy.close()
