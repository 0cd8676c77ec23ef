"""Pooled database connections: Django's psycopg pool (DB_POOL_MAX_SIZE) once exhausted, and a
real pgbouncer in transaction pooling mode in front of the API (DB_TRANSACTION_POOLING)."""

import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.live import PgBouncer, app_env, wait_until
from tests.stock import assert_stock_accounted, products_in_store_1, set_stock

pytestmark = pytest.mark.slow

PGBOUNCER_POOL_SIZE = 3
ORDERS = 120
STOCK = 30


def test_a_request_that_finds_the_pool_exhausted_gets_the_json_503(
    fresh_database, redis_server, start_gunicorn, workdir
):
    database = fresh_database("pool_full")
    env = app_env(
        database_url=database.url, redis_url=redis_server().url(), workdir=workdir,
        DB_POOL_MAX_SIZE="1", DB_POOL_TIMEOUT="1",
    )  # fmt: skip
    server = start_gunicorn(env, workers=1)  # one process: one pool of one connection
    (product_id,) = products_in_store_1(database, 1)
    set_stock(database, {product_id: 5})
    order: dict[str, requests.Response] = {}
    with database.connect() as holder:  # the order's connection waits on this lock
        holder.execute("BEGIN")
        holder.execute(
            "SELECT 1 FROM stores_inventory WHERE store_id = 1 AND product_id = %s FOR UPDATE",
            (product_id,),
        )
        buyer = threading.Thread(
            target=lambda: order.setdefault(
                "placed",
                requests.post(
                    f"{server.base_url}/orders/",
                    json={"store": 1, "items": [{"product_id": product_id, "quantity": 2}]},
                    timeout=60,
                ),
            )
        )
        buyer.start()
        wait_until(
            lambda: database.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND wait_event_type = 'Lock'",
                (database.name,),
            ),
            timeout=30,
            what="the order to wait on the stock row lock, holding the pool's connection",
        )
        refused = requests.get(f"{server.base_url}/stores/1/inventory/", timeout=30)
        # The server's only connection is the order's: the pool opened no second one.
        server_connections = database.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
            "AND pid NOT IN (pg_backend_pid(), %s)",
            (database.name, holder.info.backend_pid),
        )
        holder.execute("ROLLBACK")
    buyer.join(timeout=60)

    assert refused.status_code == 503
    assert refused.headers["Content-Type"] == "application/json"
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["error"]["code"] == "service_unavailable"
    assert server_connections == 1
    assert order["placed"].status_code == 201  # it had waited for the lock, not the pool
    assert order["placed"].json()["status"] == "CONFIRMED"
    assert requests.get(f"{server.base_url}/stores/1/inventory/", timeout=30).status_code == 200


class PoolWatcher:
    """Samples, while the load runs, pgbouncer's clients and server connections (SHOW POOLS)
    and the database's own count of its backends (pg_stat_activity)."""

    def __init__(self, bouncer: PgBouncer) -> None:
        self.bouncer = bouncer
        self.clients = Counter[int]()
        self.servers = Counter[int]()
        self.backends = Counter[int]()
        self.waiting_clients = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        database = self.bouncer.database
        with database.connect() as direct:
            while not self._stop.wait(0.02):
                pool = self.bouncer.pools()
                servers = ("sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login")
                self.servers[sum(pool.get(key, 0) for key in servers)] += 1
                self.clients[pool.get("cl_active", 0) + pool.get("cl_waiting", 0)] += 1
                self.waiting_clients = max(self.waiting_clients, pool.get("cl_waiting", 0))
                backends = direct.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                    "AND pid <> pg_backend_pid()",
                    (database.name,),
                ).fetchone()
                self.backends[backends[0] if backends else 0] += 1

    def __enter__(self) -> "PoolWatcher":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_the_api_behind_pgbouncer_in_transaction_mode(
    fresh_database, redis_server, start_gunicorn, workdir, seeded_template
):
    database = fresh_database("pgbouncer")
    bouncer = PgBouncer(database, workdir, pool_size=PGBOUNCER_POOL_SIZE).start()
    try:
        env = app_env(
            database_url=bouncer.url, redis_url=redis_server().url(), workdir=workdir,
            DB_TRANSACTION_POOLING="true", SUGGEST_RATE_LIMIT="1000000",
        )  # fmt: skip
        server = start_gunicorn(env, workers=2)  # 2 x 8 threads, a connection to pgbouncer each
        initial = dict.fromkeys(products_in_store_1(database, 4), STOCK)
        set_stock(database, initial)
        words = [
            title.split()[0].lower()
            for (title,) in database.rows("SELECT title FROM catalog_product LIMIT 30")
        ]
        staff = {"Authorization": f"Token {seeded_template.tokens['store1-manager']}"}
        statuses: Counter = Counter()
        placed: dict[str, tuple[dict, requests.Response]] = {}
        lock = threading.Lock()

        def call(method: str, path: str, **kwargs: object) -> requests.Response:
            response = requests.request(method, f"{server.base_url}{path}", timeout=60, **kwargs)
            with lock:
                statuses[f"{method} {path.split('?')[0]} {response.status_code}"] += 1
            return response

        def one_of_each(n: int) -> None:
            rng = random.Random(n)
            word = rng.choice(words)
            call("GET", f"/api/search/products/?q={word}")
            call("GET", f"/api/search/products/?q={word[:2]}&store_id=1&in_stock=true")
            call("GET", f"/api/search/suggest/?q={word[:3]}")
            call("GET", "/stores/1/inventory/")
            call("GET", "/stores/1/orders/", headers=staff)
            items = [
                {"product_id": product_id, "quantity": rng.randint(1, 3)}
                for product_id in rng.sample(sorted(initial), rng.randint(1, 3))
            ]
            body = {"store": 1, "items": items}
            key = f"pgbouncer-{uuid.uuid4()}"
            response = call("POST", "/orders/", json=body, headers={"Idempotency-Key": key})
            with lock:
                placed[key] = (body, response)

        with PoolWatcher(bouncer) as watcher:
            with ThreadPoolExecutor(24) as pool:
                list(pool.map(one_of_each, range(ORDERS)))

            # Every order once more with its key, concurrently: each answered from its first
            # placement, nothing placed twice.
            def replay(key: str) -> requests.Response:
                return call(
                    "POST", "/orders/", json=placed[key][0], headers={"Idempotency-Key": key}
                )

            keys = list(placed)
            with ThreadPoolExecutor(24) as pool:
                replays = dict(zip(keys, pool.map(replay, keys), strict=True))
            time.sleep(0.1)  # one more sample after the last request

        assert set(statuses) == {
            "GET /api/search/products/ 200",
            "GET /api/search/suggest/ 200",
            "GET /stores/1/inventory/ 200",
            "GET /stores/1/orders/ 200",
            "POST /orders/ 201",
        }, statuses
        for key, (_, first) in placed.items():
            replay = replays[key]
            assert replay.headers.get("Idempotent-Replayed") == "true"
            assert replay.json() == first.json()
        by_status = assert_stock_accounted(database, initial)
        assert sum(by_status.values()) == ORDERS
        assert by_status.get("CONFIRMED", 0) > 0
        assert by_status.get("REJECTED", 0) > 0  # stock ran out under the race
        # Up to 16 clients (2 workers x 8 threads) shared at most the pool's server connections.
        assert max(watcher.servers) <= PGBOUNCER_POOL_SIZE, watcher.servers
        assert max(watcher.backends) <= PGBOUNCER_POOL_SIZE, watcher.backends
        assert max(watcher.clients) > PGBOUNCER_POOL_SIZE, watcher.clients
        print(
            f"\npgbouncer: clients {sorted(watcher.clients.items())}, server connections "
            f"{sorted(watcher.servers.items())}, backends {sorted(watcher.backends.items())}, "
            f"most clients waiting {watcher.waiting_clients}; orders {by_status}"
        )
    finally:
        bouncer.stop()
