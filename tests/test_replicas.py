"""Reads on a real PostgreSQL streaming replica.

A primary of the test's own and a standby made from it with `pg_basebackup -R`, both with
pg_stat_statements; one API server whose DATABASE_REPLICA_URLS names the standby, another that
tolerates only 1 s of lag. What ran where is read from each server's own statistics; the standby
is paused (replay), made to lag, and killed, and every request still answers, with stock exact.
"""

import json
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests

from tests.conftest import SEED_ARGS
from tests.live import (
    Database,
    Gunicorn,
    PostgresCluster,
    RedisServer,
    app_env,
    manage,
    wait_until,
)
from tests.stock import assert_stock_accounted, products_in_store_1, set_stock

pytestmark = pytest.mark.slow

STATISTICS = {"shared_preload_libraries": "pg_stat_statements"}
RESULTS = Path(__file__).resolve().parent.parent / "var" / "test-results"


@dataclass
class Replication:
    primary: PostgresCluster
    standby: PostgresCluster
    database: Database  # the application's database, on the primary
    api: Gunicorn  # reads on the standby while it lags less than 60 s
    strict_api: Gunicorn  # ... less than 1 s

    def standby_sql(self, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.standby.url("storefront"), autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def caught_up(self) -> bool:
        """The standby has replayed everything the primary has written so far."""
        target = self.database.scalar("SELECT pg_current_wal_lsn()::text")
        return bool(
            self.standby_sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,))[0][0]
        )


def statements(url: str) -> Counter:
    """Calls per normalized statement text in the application's database."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT s.query, s.calls FROM pg_stat_statements s "
            "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = 'storefront'"
        ).fetchall()
    counted: Counter = Counter()
    for query, count in rows:  # one text may have several entries (parameter types differ)
        counted[query] += count
    return counted


def calls(stats: Counter, fragment: str) -> int:
    return sum(count for query, count in stats.items() if fragment in query)


@pytest.fixture(scope="module")
def replication(workdir) -> Iterator[Replication]:
    # Its own directory: the servers' user must traverse it, and pytest's are private to root.
    home = Path(tempfile.mkdtemp(prefix="storefront-replica-"))
    home.chmod(0o755)
    primary = PostgresCluster(home, "primary", settings=STATISTICS)
    standby = PostgresCluster(home, "standby", settings=STATISTICS)
    redis = RedisServer(workdir)
    servers: list[Gunicorn] = []
    try:
        primary.init().start()
        database = Database(primary.url(), "storefront").create()
        redis.start()
        seed_env = app_env(database_url=database.url, redis_url=redis.url(), workdir=workdir)
        manage("migrate", "--no-input", env=seed_env)
        manage("seed_data", *SEED_ARGS, "--no-progress", env=seed_env)
        with database.connect() as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
        standby.base_backup_of(primary).start()
        for max_lag in ("60", "1"):
            env = app_env(
                database_url=database.url,
                redis_url=redis.url(),
                workdir=workdir,
                DATABASE_REPLICA_URLS=standby.url("storefront"),
                DATABASE_REPLICA_MAX_LAG_SECONDS=max_lag,
                SUGGEST_RATE_LIMIT="1000000",
            )
            servers.append(Gunicorn(env, workdir, workers=2).start())
        yield Replication(primary, standby, database, *servers)
    finally:
        for server in servers:
            server.stop()
        redis.close()
        standby.stop()
        primary.stop()
        shutil.rmtree(home, ignore_errors=True)


def catalog_reads(base_url: str, tag: str) -> list[requests.Response]:
    """One of each lag-tolerant read; `tag` makes the searches new (not cached)."""
    paths = [
        f"/api/search/products/?q=classic+{tag}",
        f"/api/search/products/?q=wireless&max_price={tag}",
        f"/api/search/products/?store_id=1&min_price={tag}",
        f"/api/search/suggest/?q={tag}cla",
        "/stores/1/inventory/",
        "/stores/",
        "/stores/2/",
        "/api/catalog/products/1/",
        "/api/catalog/categories/",
    ]
    return [requests.get(base_url + path, timeout=30) for path in paths]


def order(base_url: str, product_id: int, quantity: int = 1) -> dict:
    items = [{"product_id": product_id, "quantity": quantity}]
    response = requests.post(f"{base_url}/orders/", json={"store": 1, "items": items}, timeout=60)
    assert response.status_code == 201, response.text
    return response.json()


def test_catalog_reads_run_on_the_standby_and_orders_on_the_primary(replication):
    api = replication.api.base_url
    product_id = products_in_store_1(replication.database, 1)[0]
    set_stock(replication.database, {product_id: 100})
    before = {
        "primary": statements(replication.database.url),
        "standby": statements(replication.standby.url("storefront")),
    }

    responses = catalog_reads(api, "11")
    in_stock = requests.get(f"{api}/api/search/products/?in_stock=true&store_id=1", timeout=30)
    orders = [order(api, product_id) for _ in range(5)]

    assert [r.status_code for r in [*responses, in_stock]] == [200] * (len(responses) + 1)
    assert {o["status"] for o in orders} == {"CONFIRMED"}
    primary = statements(replication.database.url) - before["primary"]
    standby = statements(replication.standby.url("storefront")) - before["standby"]
    # The four searches and the suggestion matched on the standby; every page's rows (and their
    # stock, which the in_stock search's page is checked against) read on the primary.
    assert calls(standby, "search_products(") == 4
    assert calls(standby, "search_suggest(") == 1
    assert calls(primary, "search_products(") == 0
    assert calls(primary, "search_rows(") == 5
    # The inventory page, the stores, the product and the categories were read on the standby;
    # the page's quantities on the primary.
    assert calls(standby, '"product_title_key"') >= 1
    assert calls(primary, '"product_title_key"') == 0
    assert calls(primary, "LEFT JOIN stores_inventory i") == 1
    assert calls(standby, 'FROM "stores_store"') >= 2
    assert calls(standby, 'FROM "catalog_product"') >= 1
    assert calls(standby, 'FROM "catalog_category"') >= 1
    # Orders only on the primary; nothing ever written on the standby (it cannot be).
    assert calls(primary, "orders_place(") == 5
    assert calls(standby, "orders_") == 0


def test_stock_is_exact_while_the_standby_lags(replication):
    """Replay paused on the standby: searches match there, yet a product sold out on the
    primary shows 0 and drops out of in-stock searches (with and without a store) at once; a
    server that tolerates 1 s of lag reads the primary instead, and says so in /readyz."""
    api, strict = replication.api.base_url, replication.strict_api.base_url
    product_id = products_in_store_1(replication.database, 2)[1]
    set_stock(replication.database, {product_id: 1})
    for other_store in (2, 3):  # store 1's unit is then the only one anywhere
        set_stock(replication.database, {product_id: 0}, store_id=other_store)
    wait_until(replication.caught_up, timeout=30, what="the standby to catch up")
    title = replication.database.scalar(
        "SELECT title FROM catalog_product WHERE id = %s", (product_id,)
    )
    replication.standby_sql("SELECT pg_wal_replay_pause()")
    try:
        assert order(api, product_id)["status"] == "CONFIRMED"
        standby_stock = replication.standby_sql(
            "SELECT quantity FROM stores_inventory WHERE store_id = 1 AND product_id = %s",
            (product_id,),
        )
        assert standby_stock == [(1,)]  # the standby has not seen the sale

        before = statements(replication.standby.url("storefront"))
        found = requests.get(
            f"{api}/api/search/products/", params={"q": title, "store_id": 1}, timeout=30
        ).json()["results"]
        assert {row["id"]: row["store_quantity"] for row in found}[product_id] == 0
        in_stock = requests.get(
            f"{api}/api/search/products/",
            params={"q": title, "store_id": 1, "in_stock": "true"},
            timeout=30,
        ).json()["results"]
        assert product_id not in {row["id"] for row in in_stock}
        anywhere = requests.get(
            f"{api}/api/search/products/", params={"q": title, "in_stock": "true"}, timeout=30
        ).json()["results"]
        assert product_id not in {row["id"] for row in anywhere}
        assert inventory_quantity(api, product_id) == 0
        on_standby = statements(replication.standby.url("storefront")) - before
        # The searches matched there: the in_stock ones saw the product in stock, and the
        # primary's stock of their pages took it out.
        assert calls(on_standby, "search_products(") == 3
        assert calls(on_standby, '"product_title_key"') >= 1

        # Past 1 s behind, the strict server skips the standby and reports it.
        time.sleep(1.5)
        before = statements(replication.standby.url("storefront"))
        ready = requests.get(f"{strict}/readyz", timeout=30)
        assert ready.status_code == 200
        assert ready.json()["replicas"]["replica_1"].startswith("lagging: ")
        assert all(r.status_code == 200 for r in catalog_reads(strict, "22"))
        assert calls(statements(replication.standby.url("storefront")) - before, "search_") == 0
    finally:
        replication.standby_sql("SELECT pg_wal_replay_resume()")
    wait_until(replication.caught_up, timeout=30, what="the standby to catch up")
    time.sleep(1.1)  # the strict server asks the standby again after a second
    before = statements(replication.standby.url("storefront"))
    assert all(r.status_code == 200 for r in catalog_reads(strict, "33"))
    assert calls(statements(replication.standby.url("storefront")) - before, "search_") >= 3


def inventory_quantity(base_url: str, product_id: int) -> int:
    url: str | None = f"{base_url}/stores/1/inventory/?page_size=100"
    while url:
        page = requests.get(url, timeout=30).json()
        for row in page["results"]:
            if row["product_id"] == product_id:
                return row["quantity"]
        url = page["next"]
    raise AssertionError(f"product {product_id} not in store 1's inventory")


def test_replication_lag_under_an_order_burst(replication):
    """300 orders from 24 threads over both servers while the primary's pg_stat_replication is
    sampled: the standby's lag is measured (var/test-results/replication-lag.json) and it ends
    with exactly the primary's stock."""
    # Products no other test of this module orders.
    products = products_in_store_1(replication.database, 16)[10:]
    initial = dict.fromkeys(products, 60)
    set_stock(replication.database, initial)
    samples: list[tuple[float, float]] = []  # (bytes behind, replay_lag seconds)
    done = threading.Event()

    def sample() -> None:
        with psycopg.connect(replication.database.url, autocommit=True) as conn:
            while not done.is_set():
                row = conn.execute(
                    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn),"
                    " coalesce(extract(epoch FROM replay_lag), 0) FROM pg_stat_replication"
                ).fetchone()
                if row:
                    samples.append((float(row[0]), float(row[1])))
                time.sleep(0.01)

    servers = [replication.api.base_url, replication.strict_api.base_url]

    def place(n: int) -> int:
        items = [{"product_id": products[n % len(products)], "quantity": 1 + n % 2}]
        return requests.post(
            f"{servers[n % 2]}/orders/", json={"store": 1, "items": items}, timeout=60
        ).status_code

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.monotonic()
    with ThreadPoolExecutor(24) as pool:
        statuses = Counter(pool.map(place, range(300)))
    burst_seconds = time.monotonic() - started
    done.set()
    sampler.join()
    caught_up_after = time.monotonic()
    wait_until(replication.caught_up, timeout=30, what="the standby to catch up")
    caught_up_after = time.monotonic() - caught_up_after

    assert statuses == {201: 300}
    assert_stock_accounted(replication.database, initial)
    stock_sql = "SELECT product_id, quantity FROM stores_inventory WHERE store_id = 1 ORDER BY 1"
    assert replication.standby_sql(stock_sql) == replication.database.rows(stock_sql)
    assert samples
    report = {
        "orders": 300,
        "burst_seconds": round(burst_seconds, 2),
        "orders_per_second": round(300 / burst_seconds, 1),
        "max_bytes_behind": max(bytes_behind for bytes_behind, _ in samples),
        "max_replay_lag_ms": round(1000 * max(lag for _, lag in samples), 1),
        "samples": len(samples),
        "caught_up_after_burst_ms": round(1000 * caught_up_after, 1),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "replication-lag.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nReplication under an order burst: {report}")


def test_a_killed_standby_costs_no_request(replication):
    """The standby is SIGKILLed while 8 clients read the catalog through both servers: requests
    in flight on it and every one after it answer from the primary."""
    servers = [replication.api.base_url, replication.strict_api.base_url]
    statuses: Counter = Counter()
    lock = threading.Lock()
    stop = threading.Event()

    def read(n: int) -> None:
        round_ = 0
        while not stop.is_set():
            responses = catalog_reads(servers[n % 2], f"{n + 1}{round_:04d}")
            with lock:
                statuses.update(r.status_code for r in responses)
            round_ += 1

    with ThreadPoolExecutor(8) as pool:
        readers = [pool.submit(read, n) for n in range(8)]
        time.sleep(1)
        replication.standby.kill()
        killed_at = sum(statuses.values())
        time.sleep(3)
        stop.set()
        for reader in readers:
            reader.result()
    try:
        assert killed_at > 0 and sum(statuses.values()) > killed_at
        assert set(statuses) == {200}, statuses
        ready = requests.get(f"{servers[0]}/readyz", timeout=30)
        assert ready.status_code == 200
        assert ready.json()["replicas"] == {"replica_1": "down: OperationalError"}
    finally:
        replication.standby.start()
    # Back: once each process asks again (a second on), reads return to it, though every
    # thread still holds a connection to the killed server.
    time.sleep(1.1)
    before = statements(replication.standby.url("storefront"))
    for round_ in range(3):
        assert all(r.status_code == 200 for r in catalog_reads(servers[0], f"5{round_}"))
    assert calls(statements(replication.standby.url("storefront")) - before, "search_") >= 6
