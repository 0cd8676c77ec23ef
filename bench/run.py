"""`make bench`: every headline path under load, next to the floors of this machine.

Prepares its own database (seeded once, reused), starts the stack as production runs it
(gunicorn gthread workers, DEBUG off, PostgreSQL, Redis, a Celery worker), drives it with wrk
from a separate process over loopback, and writes bench/results/latest.{json,png}.
See bench/README.md for the method and the latest figures.
"""

import argparse
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import dataset, typesense_server, workloads  # noqa: E402
from bench.loadgen import LoadResult, ensure_wrk, run_wrk  # noqa: E402
from bench.replica import Replicated, replicated  # noqa: E402
from bench.report import print_table, versus_rows, write_chart  # noqa: E402
from bench.stack import CpuSampler, Stack, StackConfig, processes_named  # noqa: E402

RESULTS = ROOT / "bench" / "results"
WORK = RESULTS / "work"
FAST_EMAIL = "django.core.mail.backends.dummy.EmailBackend"
SLOW_EMAIL = "bench.slow_email.SlowEmailBackend"
LISTING_STORE = 1  # its staff token is the seeded one
HOT_STORE = 2
WARM_STORE = 3  # orders that warm the workers up, away from the hot store's rows
FLOOR_PATH = "/bench/floor/"
# Runs of a scenario and of its floor, alternated (Bench.paired, Bench.order_rounds).
PAIRED_ROUNDS = 5
BULK_LINES = 10_000  # lines of one bulk sync (fewer where the store carries fewer products)


@dataclass(frozen=True)
class Profile:
    """Sizes and durations of one kind of run."""

    database: str
    size: dataset.SeedSize
    duration_s: int
    listing_orders: int
    hot_orders: int
    # The side-by-side with Typesense (Bench.versus): the realistic catalog's size, and the
    # number of different searches of the 1-client and of the 8-client runs of each mix.
    realistic_products: int
    versus_queries: tuple[int, int]


FULL = Profile(
    database="storefront_bench",
    size=dataset.SeedSize(stores=20, products=1_000_000, inventory_per_store=50_000),
    duration_s=15,
    listing_orders=40_000,
    hot_orders=2_000,
    realistic_products=1_000_000,
    versus_queries=(600, 1_800),
)
QUICK = Profile(
    database="storefront_bench_quick",
    size=dataset.SeedSize(stores=20, products=50_000, inventory_per_store=5_000),
    duration_s=5,
    listing_orders=5_000,
    hot_orders=1_000,
    realistic_products=20_000,
    versus_queries=(150, 400),
)
# `replica`: alternating rounds of each mode (primary alone, standby taking the reads).
REPLICA_ROUNDS = 2
# A side-by-side run stops at its last query or after this long, whichever comes first.
VERSUS_RUN_LIMIT_S = 60


@dataclass
class Bench:
    args: argparse.Namespace
    profile: Profile
    env: dict[str, str]
    stack: Stack
    wrk: str
    token: str = ""
    results: list[dict] = field(default_factory=list)
    monitor: psycopg.Connection | None = None  # finds the database backends to account for
    replicated: Replicated | None = None  # the replica scenario's servers, whole
    typesense: typesense_server.TypesenseServer | None = None  # its CPU counts while it runs

    @property
    def db_url(self) -> str:
        return self.env["DATABASE_URL"]

    # --- measuring ---------------------------------------------------------------------------
    def _watched_pids(self) -> dict[str, list[int]]:
        pids = self.stack.pids()
        if self.replicated is not None:
            # Every process of each server (I/O workers, WAL sender and receiver included):
            # the servers are the scenario's own.
            pids["postgres"] = self.replicated.primary_pids()
            pids["replica"] = self.replicated.standby_pids()
        else:
            if self.monitor is None:
                self.monitor = psycopg.connect(self.db_url, autocommit=True)
            pids["postgres"] = dataset.bench_pids(self.monitor)
        pids["redis"] = processes_named("redis-server")
        if self.typesense is not None:
            pids["typesense"] = self.typesense.pids()
        return pids

    def record(self, result: dict) -> dict:
        # CPU per request of each server: 1000 / ms is what one core of it serves per second.
        result["cpu_ms_per_request"] = {
            group: round(1000 * result["cpu_s"][group] / max(result["requests"], 1), 3)
            for group in ("gunicorn", "postgres", "replica")
            if result["cpu_s"].get(group)
        }
        self.results.append(result)
        load, per_request = result["latency_ms"], result["cpu_ms_per_request"]
        print(
            f"  {result['name']:<22} {result['throughput_rps']:>9.1f} req/s  p50 {load['p50']:.1f}"
            f" ms  p99 {load['p99']:.1f} ms  errors {result['errors']}"
            f"  loadgen CPU {result['loadgen_cpu_pct_of_one_core']}%  CPU ms/request "
            + ", ".join(f"{group} {ms}" for group, ms in per_request.items()),
            flush=True,
        )
        return result

    def measured(self, name: str, run, **info) -> dict:
        """One load's result, with the CPU of every process involved (not recorded)."""
        log = self.stack.config.log_dir / "gunicorn.log"
        log_offset = log.stat().st_size if log.exists() else 0
        with CpuSampler(self._watched_pids) as sampler:
            load: LoadResult = run()
        cpu = {
            group: round(sampler.seconds().get(group, 0.0), 2)
            for group in (
                "gunicorn", "celery", "postgres", "replica", "redis", "typesense", "machine",
            )
        }  # fmt: skip
        cpu["loadgen"] = round(load.loadgen_cpu_s, 2)
        # Everything else that ran meanwhile: other users of this machine (and of Redis).
        cpu["other"] = round(
            cpu["machine"] - sum(v for k, v in cpu.items() if k not in {"machine", "redis"}), 2
        )
        cpu["window_s"] = round(sampler.window_s, 2)
        ok = info.pop("ok_statuses", {200})
        result = {
            "name": name,
            **info,
            "requests": load.requests,
            "duration_s": round(load.duration_s, 2),
            "throughput_rps": round(load.throughput, 1),
            "latency_ms": {k: round(v, 2) for k, v in load.latency_ms.items()},
            "server_latency_ms": server_latency_ms(log, log_offset),
            "statuses": load.statuses,
            "errors": load.requests - load.count(ok) + load.socket_errors,
            "http_5xx": load.count_range(500, 599),
            "socket_errors": load.socket_errors,
            "cpu_s": cpu,
            "loadgen_cpu_pct_of_one_core": round(100 * load.loadgen_cpu_s / load.duration_s, 1),
        }
        return result

    def http(
        self, name: str, lines: list, *, connections: int, budget: int = 0, token: bool = False,
        duration: float | None = None, **info,
    ) -> dict:  # fmt: skip
        """One wrk run of `lines`, recorded."""
        return self.record(
            self.load(name, lines, connections=connections, budget=budget, token=token,
                      duration=duration, **info)
        )  # fmt: skip

    def load(
        self, name: str, lines: list, *, connections: int, budget: int = 0, token: bool = False,
        duration: float | None = None, base_url: str | None = None, **info,
    ) -> dict:  # fmt: skip
        """One wrk run of `lines` (against our stack unless `base_url` says), measured but not
        recorded."""
        path = workloads.write_requests(WORK / f"{name}.req", lines)
        return self.measured(
            name,
            lambda: run_wrk(
                wrk=self.wrk, base_url=base_url or self.stack.base_url, requests_file=path,
                connections=connections, duration_s=duration or self.profile.duration_s,
                budget=budget, token=self.token if token else None,
            ),
            concurrency=connections,
            **info,
        )  # fmt: skip

    def paired(self, name: str, lines: list, *, connections: int, **info) -> dict:
        """The scenario and the framework floor in alternating slices, PAIRED_ROUNDS of each
        (the profile's duration in all for the scenario). Its ratio is the median of the rounds'
        ratios: this shared machine's speed drifts by the minute, and a floor measured once,
        minutes away, moved the ratios by half (bench/README.md); slices seconds apart move
        alike."""
        slice_s = self.profile.duration_s / PAIRED_ROUNDS
        floor = [workloads.get(FLOOR_PATH)]
        floors, slices = [], []
        for _ in range(PAIRED_ROUNDS):
            floors.append(self.load("floor-paired", floor, connections=connections,
                                    duration=slice_s))  # fmt: skip
            slices.append(self.load(name, lines, connections=connections, duration=slice_s, **info))
        return self.record(with_paired_ratio(merged(slices), slices, floors))

    def warm(self, lines: list, *, token: bool = False) -> None:
        """Primes the cache with each request once, then lets the workers settle for 2 s."""
        path = workloads.write_requests(WORK / "warm.req", lines)
        budget = len(lines)
        token_value = self.token if token else None
        run_wrk(
            wrk=self.wrk, base_url=self.stack.base_url, requests_file=path, connections=1,
            duration_s=60, budget=budget, token=token_value,
        )  # fmt: skip
        run_wrk(
            wrk=self.wrk, base_url=self.stack.base_url, requests_file=path, connections=8,
            duration_s=2, token=token_value,
        )  # fmt: skip

    def raw_sql(self, name: str, orders: list, *, concurrency: int, **info) -> dict:
        path = WORK / f"{name}.json"
        path.write_text(json.dumps(orders))
        command = [
            sys.executable, str(ROOT / "bench" / "raw_sql_floor.py"),
            "--database-url", self.db_url, "--store", str(HOT_STORE),
            "--orders", str(path), "--concurrency", str(concurrency),
        ]  # fmt: skip

        def run() -> LoadResult:
            with tempfile.TemporaryFile() as out:
                process = subprocess.Popen(command, stdout=out, env=self.env)
                _, status, usage = os.wait4(process.pid, 0)
                process.returncode = os.waitstatus_to_exitcode(status)
                out.seek(0)
                text = out.read().decode()
            if process.returncode != 0:
                raise RuntimeError(f"raw SQL floor failed: {text[-2000:]}")
            data = json.loads(text.strip().splitlines()[-1])
            return LoadResult(
                requests=data["requests"],
                duration_s=data["duration_s"],
                statuses={"201": data["confirmed"] + data["rejected"], "500": data["errors"]},
                socket_errors=0,
                latency_ms=data["latency_ms"],
                loadgen_cpu_s=usage.ru_utime + usage.ru_stime,
            )

        return self.measured(name, run, concurrency=concurrency, **info)

    # --- scenarios -----------------------------------------------------------------------------
    def floors(self, name: str = "floor-django") -> None:
        print("framework floor", flush=True)
        floor = [workloads.get(FLOOR_PATH)]
        self.warm(floor)
        self.http(
            name, floor, connections=self.args.connections, group="floor",
            description="constant JSON from a plain Django view, same gunicorn and middleware",
        )  # fmt: skip

    def uncached_search(self, **info) -> None:
        """Searches nobody asked before (every request different), mixing every query shape:
        one client (latency) and `--uncached-connections` clients (throughput)."""
        lines = workloads.uncached_search(count=20_000, stores=self.profile.size.stores)
        description = "mix of " + ", ".join(workloads.SEARCH_SHAPES) + "; every request different"
        for name, connections in (
            ("search-uncached-1", 1),
            ("search-uncached", self.args.uncached_connections),
        ):
            self.http(
                name, lines, connections=connections, group="search", floor="floor-django",
                description=description, **info,
            )  # fmt: skip

    def search(self) -> None:
        stores = self.profile.size.stores
        print("search", flush=True)
        self.uncached_search()
        hot = workloads.hot_search(count=20, stores=stores)
        self.warm(hot)
        self.paired(
            "search-cached", hot, connections=self.args.connections, group="search",
            floor="floor-django",
            description="20 popular searches (q, price, category, store_id), cache warm",
        )  # fmt: skip
        catalog_only = workloads.hot_search(count=20, stores=stores, with_store=False)
        self.warm(catalog_only)
        self.paired(
            "search-cached-no-store", catalog_only, connections=self.args.connections,
            group="search", floor="floor-django",
            description="the same 20 searches without store_id: no live stock to read",
        )  # fmt: skip
        suggest = workloads.hot_suggest(count=20)
        self.warm(suggest)
        self.paired(
            "suggest-cached", suggest, connections=self.args.connections, group="search",
            floor="floor-django",
            description="20 popular prefixes, cache warm, rate limit raised by setting",
        )  # fmt: skip
        # The floor again: how far the shared machine's speed drifted during the search group.
        self.floors("floor-django-2")

    def listings(self) -> None:
        """Each cursor-paged listing's first page against its deepest (the last full page)."""
        print("listings", flush=True)
        for listing, staff in (("inventory", False), ("orders", True)):
            path = f"/stores/{LISTING_STORE}/{listing}/"
            deepest = dataset.deepest_cursor(store_id=LISTING_STORE, listing=listing)
            for depth, cursor in (("first", None), ("deepest", deepest)):
                self.http(
                    f"{listing}-{depth}", workloads.listing_page(path, cursor),
                    connections=self.args.listing_connections, group="listings",
                    floor="floor-django", token=staff,
                    **({"compare_latency_with": f"{listing}-first"} if cursor else {}),
                    description=f"GET {path} ({'staff, ' if staff else ''}{depth} page)",
                )  # fmt: skip

    def hot_sku(
        self, *, name: str, orders: list, stock: int, products: list[int], **info
    ) -> dict:  # fmt: skip
        """Orders racing for the same rows, measured (not recorded); the stock ledger is checked
        afterwards."""
        dataset.stock_set(store_id=HOT_STORE, product_ids=products, quantity=stock)
        marker = dataset.last_order_id()
        movements = dataset.last_movement_id()
        deadlocks = dataset.deadlocks_so_far(url=self.db_url)
        if info.pop("raw", False):
            result = self.raw_sql(name, orders, concurrency=self.server_threads, **info)
            # It writes the outbox rows the API writes; nobody is meant to send them.
            dataset.emails_skip(after_order_id=marker)
        else:
            result = self.load(
                name,
                workloads.order_requests(store_id=HOT_STORE, orders=orders),
                connections=self.args.buyers, budget=len(orders), duration=300, **info,
            )  # fmt: skip
        check = dataset.stock_check(
            store_id=HOT_STORE, product_ids=products, initial=stock, after_order_id=marker
        )
        ledger = dataset.ledger_check(
            store_id=HOT_STORE, product_ids=products, after_movement_id=movements
        )
        result["checks"] = {
            "orders_confirmed": check.confirmed,
            "orders_rejected": check.rejected,
            "orders_per_s": round((check.confirmed + check.rejected) / result["duration_s"], 1),
            "units_sold": check.units_sold,
            "units_deducted": check.units_deducted,
            "negative_rows": check.negative_rows,
            "deadlocks": dataset.deadlocks_so_far(url=self.db_url) - deadlocks,
            **ledger,
            # Sold units match the stock taken, and the ledger's `order` movements (which the
            # raw-SQL floor writes as the API does) add up to both.
            "stock_ledger_ok": check.ok
            and ledger["ledger_drift_rows"] == 0
            and ledger["units_in_ledger"] == check.units_sold,
        }
        print(f"    checks: {result['checks']}", flush=True)
        return result

    def warm_orders(self) -> None:
        """Orders in another store first, as every other path is warmed: a new worker's first
        orders pay one-time costs (Django compiles its email regex lazily, once per thread
        that gets there first, ~60 ms each) that would otherwise land in the short hot-SKU runs."""
        lines = always_confirmed_orders(store_id=WARM_STORE, count=100)
        marker = dataset.last_order_id()
        self.warm(lines)
        dataset.emails_skip(after_order_id=marker)  # their sending must not overlap the runs

    @property
    def server_threads(self) -> int:
        assert self.stack.shape is not None, "the stack is started"
        return self.stack.shape.workers * self.stack.shape.threads

    def orders(self) -> None:
        products = dataset.hot_products(store_id=HOT_STORE, count=11)
        single, multi = products[:1], products[1:]
        one = workloads.single_sku_orders(product_id=single[0], count=500)
        many = workloads.multi_sku_orders(product_ids=multi, count=self.profile.hot_orders)
        print("orders: raw-SQL floor and API, alternated", flush=True)
        self.warm_orders()
        common = {"group": "orders", "ok_statuses": {201}}
        self.order_rounds(
            raw_name="raw-sql-hot-1", api_name="orders-hot-1",
            raw_description=f"psycopg, {self.server_threads} threads: 500 orders of 1 unit, "
            "100 in stock",
            api_description="500 concurrent buyers, 1 product with 100 units",
            orders=one, stock=100, products=single, **common,
        )  # fmt: skip
        self.order_rounds(
            raw_name="raw-sql-hot-10", api_name="orders-hot-10",
            raw_description=f"psycopg, {self.server_threads} threads: random 1-4 line orders, "
            "10 products x 400 units",
            api_description=f"{self.args.buyers} concurrent buyers, random multi-item orders "
            "over 10 products x 400 units",
            orders=many, stock=400, products=multi, **common,
        )  # fmt: skip
        self.many_orders, self.multi_products = many, multi

    def bulk_sync(self) -> None:
        """A warehouse sync of BULK_LINES stock rows of store 1 (`POST .../inventory/bulk/`,
        mode set), again and again, while buyers race for 10 of those products: each sync's
        latency, the orders' throughput meanwhile, and the ledger checked afterwards."""
        store = LISTING_STORE  # its staff token is the seeded one
        products = dataset.hot_products(store_id=store, count=BULK_LINES)
        hot = products[:10]
        dataset.stock_set(store_id=store, product_ids=hot, quantity=400)
        orders = workloads.multi_sku_orders(product_ids=hot, count=self.profile.hot_orders)
        movements = dataset.last_movement_id()
        deadlocks = dataset.deadlocks_so_far(url=self.db_url)
        syncs: list[tuple[int, float]] = []
        done = threading.Event()

        def sync_until_done() -> None:
            time.sleep(1)  # the buyers are connected and racing
            number = 0
            while not done.is_set():
                body = workloads.bulk_set_body(product_ids=products, seed=number)
                started = time.perf_counter()
                answer = requests.post(
                    f"{self.stack.base_url}/stores/{store}/inventory/bulk/", data=body,
                    headers={"Authorization": f"Token {self.token}",
                             "Content-Type": "application/json"},
                    timeout=120,
                )  # fmt: skip
                syncs.append((answer.status_code, time.perf_counter() - started))
                number += 1

        print(f"bulk sync: {len(products):,} lines set while buyers race", flush=True)
        syncer = threading.Thread(target=sync_until_done)
        syncer.start()
        try:
            result = self.load(
                "orders-during-bulk-sync",
                workloads.order_requests(store_id=store, orders=orders),
                connections=self.args.buyers, duration=self.profile.duration_s + 1,
                group="orders", ok_statuses={201}, compare_latency_with="orders-hot-10",
                description=f"{self.args.buyers} buyers on 10 products while {len(products):,}-"
                "line bulk syncs (mode set) of the same store run back to back",
            )  # fmt: skip
        finally:
            done.set()
            syncer.join()
        latencies = sorted(seconds * 1000 for _, seconds in syncs)
        ledger = dataset.ledger_check(
            store_id=store, product_ids=products, after_movement_id=movements
        )
        result["bulk_sync"] = {
            "lines": len(products),
            "syncs": len(syncs),
            "statuses": dict(Counter(str(status) for status, _ in syncs)),
            "latency_ms": {
                "p50": round(statistics.median(latencies), 1),
                "max": round(latencies[-1], 1),
            },
        }
        result["checks"] = {
            **ledger,
            "negative_rows": dataset.negative_rows(store_id=store, product_ids=products),
            "deadlocks": dataset.deadlocks_so_far(url=self.db_url) - deadlocks,
        }
        self.record(result)
        print(f"    bulk syncs: {result['bulk_sync']}  checks: {result['checks']}", flush=True)

    def order_rounds(
        self, *, raw_name: str, api_name: str, raw_description: str, api_description: str, **run
    ) -> None:
        """The raw-SQL floor and the API on the same orders, alternated PAIRED_ROUNDS times (the
        stock reset before each run); the API's ratio is the median of the rounds' ratios."""
        raws, apis = [], []
        for _ in range(PAIRED_ROUNDS):
            raws.append(self.hot_sku(name=raw_name, raw=True, description=raw_description, **run))
            apis.append(
                self.hot_sku(name=api_name, floor=raw_name, description=api_description, **run)
            )
        self.record(merged(raws))
        self.record(with_paired_ratio(merged(apis), apis, raws))

    def versus(self) -> None:
        """Search on the realistic catalog, ours against Typesense's on the same machine, with
        the same never-repeated searches (a cache never answers), one engine right after the
        other: two mixes (without and with price bounds), 1 client and 8 clients each. Our
        stack is restarted on the realistic catalog's database for it, and back after it."""
        database = self.args.realistic_database or f"{self.profile.database}_realistic"
        size = dataclasses.replace(
            self.profile.size,
            products=self.args.realistic_products or self.profile.realistic_products,
        )
        env = bench_env(database=database, redis_url=self.args.redis_url)
        env.update(
            CACHE_KEY_PREFIX="bench-realistic", **dict(i.split("=", 1) for i in self.args.env)
        )
        url = env["DATABASE_URL"]
        print(f"realistic catalog vs Typesense {typesense_server.VERSION} ({database})", flush=True)
        prepare_realistic(size, env=env, reseed=self.args.reseed)
        warm, runs = self.versus_query_lists(url=url, stores=size.stores)
        server = typesense_server.TypesenseServer(
            port=self.args.typesense_port, data_dir=ROOT / "var" / "bench" / "typesense" / database,
            log=RESULTS / "logs" / "typesense.log",
        )  # fmt: skip
        main_stack, main_env = self.stack, self.env
        self.stack.stop()
        self.stack = Stack(dataclasses.replace(main_stack.config, env=env))
        self.env, self.monitor, self.typesense = env, None, server
        try:
            started = time.monotonic()
            server.start()
            if typesense_server.index_catalog(server, url=url):
                print(f"  indexed into Typesense in {time.monotonic() - started:.0f} s", flush=True)
            self.stack.start(email_backend=FAST_EMAIL)
            self.versus_runs(warm, runs, typesense_url=server.base_url)
        finally:
            self.stack.stop()
            server.stop()
            self.stack, self.env, self.monitor = main_stack, main_env, None
            self.typesense = None
            self.stack.start(email_backend=FAST_EMAIL)

    def versus_query_lists(
        self, *, url: str, stores: int
    ) -> tuple[list[workloads.SearchQuery], dict[tuple[str, int], list[workloads.SearchQuery]]]:
        """Different searches for the warm-up and for each run, {(mix, clients): searches}; no
        search is in two lists but the price mix's, which are the others with price bounds."""
        one, many = self.profile.versus_queries
        warm = min(one, 300)
        titles = dataset.sample_titles(url=url, count=2 * (warm + one + many), seed=11)
        drawn = workloads.versus_queries(
            titles=titles, stores=stores, count=warm + one + many, seed=12
        )
        by_clients = {
            1: drawn[warm : warm + one],
            self.args.uncached_connections: drawn[warm + one :],
        }
        runs = {("words", clients): searches for clients, searches in by_clients.items()}
        for clients, searches in by_clients.items():
            runs["price", clients] = workloads.with_price_bounds(searches, seed=13)
        return drawn[:warm], runs

    def versus_runs(
        self, warm: list[workloads.SearchQuery],
        runs: dict[tuple[str, int], list[workloads.SearchQuery]], *, typesense_url: str,
    ) -> None:  # fmt: skip
        """Each run on our stack, then right after on Typesense (budget: the list, once)."""
        engines = {
            "realistic": (workloads.our_search, None),
            "typesense": (workloads.typesense_search, typesense_url),
        }
        for render, base_url in engines.values():
            lines = [render(query) for query in warm]
            self.load("versus-warm", lines, connections=8, budget=len(lines),
                      duration=VERSUS_RUN_LIMIT_S, base_url=base_url)  # fmt: skip
        mixes = {
            "words": "words, prefixes, typos, two words; alone, in a category or in stock in a "
            "store",
            "price": "the same searches, each within random price bounds",
        }
        for (mix, clients), searches in runs.items():
            suffix = f"-{clients}" if mix == "words" else f"-{mix}-{clients}"
            rival = f"typesense{suffix}"
            for engine, (render, base_url) in engines.items():
                lines = [render(query) for query in searches]
                against = {"floor": rival, "compare_latency_with": rival}
                self.http(
                    f"{engine}{suffix}", lines, connections=clients, budget=len(lines),
                    duration=VERSUS_RUN_LIMIT_S, base_url=base_url, group="versus", mix=mix,
                    description=f"{engine}: {mixes[mix]}; {len(lines)} different searches",
                    **(against if engine == "realistic" else {}),
                )  # fmt: skip
            if mix == "words":
                self.http(
                    f"realistic-facets-{clients}",
                    [workloads.our_search_with_facets(query) for query in searches],
                    connections=clients, budget=len(searches), duration=VERSUS_RUN_LIMIT_S,
                    group="versus", mix="facets", compare_latency_with=f"realistic-{clients}",
                    description=f"ours: the same searches with facets=category,price; "
                    f"{len(searches)} different searches",
                )  # fmt: skip

    def replica(self) -> None:
        """Uncached search and the inventory listing on a primary of the bench's own, with a
        local streaming standby taking the catalog reads, in alternating rounds next to the same
        load on the primary alone. One machine: the standby's CPU is the web servers' too, so
        the point is what leaves the primary (its CPU per request), not the throughput."""
        print("replica", flush=True)
        searches = workloads.uncached_search(count=24_000, stores=self.profile.size.stores)
        # A share of the searches for each load of each slice: none finds another's result in
        # the cache.
        share = len(searches) // (2 * REPLICA_ROUNDS)
        listing = workloads.listing_page(f"/stores/{LISTING_STORE}/inventory/", None)
        slices: dict[str, list[dict]] = {}
        main_stack, main_env = self.stack, self.env
        main_stack.stop()
        try:
            with replicated(self.profile.size, env=self.env, workdir=WORK / "replica") as servers:
                self.replicated = servers
                modes = (("primary", ""), ("replica", servers.standby_url))
                for number in range(2 * REPLICA_ROUNDS):
                    mode, replicas = modes[number % 2]
                    self._restart(DATABASE_URL=servers.primary_url,
                                  DATABASE_REPLICA_URLS=replicas)  # fmt: skip
                    mine = searches[number * share : (number + 1) * share]
                    half = len(mine) // 2
                    loads = (
                        ("search-uncached", mine[:half], self.args.uncached_connections),
                        # The other half without its `in_stock` searches (whose pages are
                        # also checked against the primary's stock): the catalog's searches.
                        ("search-no-stock-filter",
                         [line for line in mine[half:] if "in_stock" not in line.path],
                         self.args.uncached_connections),
                        ("inventory-first", listing, self.args.listing_connections),
                    )  # fmt: skip
                    for name, lines, connections in loads:
                        slices.setdefault(f"{name}-{mode}", []).append(self.load(
                            f"{name}-{mode}", lines, connections=connections,
                            duration=self.profile.duration_s / REPLICA_ROUNDS,
                            group="replica", floor="floor-django",
                            description=f"{name} with {'a' if replicas else 'no'} replica",
                        ))  # fmt: skip
                    self.stack.stop()
        finally:
            self.replicated = None
            self.stack, self.env = main_stack, main_env
            main_stack.start(email_backend=FAST_EMAIL)
        for runs in slices.values():
            self.record(merged(runs))

    def _restart(self, **env: str) -> None:
        self.env = {**self.env, **env}
        self.stack = Stack(dataclasses.replace(self.stack.config, env=self.env))
        self.stack.start(email_backend=FAST_EMAIL)

    def slow_email(self) -> None:
        print("orders with a 2 s email backend (stack restarted)", flush=True)
        self.stack.stop()
        self.stack.start(email_backend=SLOW_EMAIL)
        self.warm([workloads.get(FLOOR_PATH)])
        self.warm_orders()
        emails_before = dataset.email_counts()
        result = self.hot_sku(
            name="orders-slow-email", orders=self.many_orders, stock=400,
            products=self.multi_products, floor="raw-sql-hot-10", group="orders",
            ok_statuses={201}, compare_latency_with="orders-hot-10",
            description="as orders-hot-10, every confirmation email takes 2 s to send",
        )  # fmt: skip
        after = dataset.email_counts()
        result["checks"]["emails_sent_during_run"] = after.get("SENT", 0) - emails_before.get(
            "SENT", 0
        )
        result["checks"]["emails_pending_at_end"] = after.get("PENDING", 0)
        self.record(result)

    def pool(self) -> None:
        """Persistent connections (the default, CONN_MAX_AGE) against Django's psycopg pool of
        each --pool-sizes size per worker: a stack per mode side by side (the pools' without
        Celery), each workload run on them in turn, slice by slice, PAIRED_ROUNDS times (each
        round starting with the next mode); each pool's ratio is the median of the rounds'
        ratios to the persistent slice of its round.
        Each slice also counts the stack's connections in pg_stat_activity."""
        sizes = [int(size) for size in self.args.pool_sizes.split(",")]
        stacks = {"persistent": self.stack}
        for offset, size in enumerate(sizes, start=1):
            env = {**self.env, "DB_POOL_MAX_SIZE": str(size)}
            stacks[f"pool{size}"] = Stack(
                dataclasses.replace(
                    self.stack.config, port=self.args.port + offset, env=env, celery=False,
                    log_dir=RESULTS / "logs" / f"pool{size}",
                )
            )  # fmt: skip
        stores = self.profile.size.stores
        store_path = f"/stores/{LISTING_STORE}/inventory/"
        marker = dataset.last_order_id()
        workloads_by_name = {
            # (lines, clients, statuses that count as success); uncached searches are split
            # among the slices so that no stack sees a search another already cached.
            "uncached": (workloads.uncached_search(count=30_000, stores=stores, seed=21),
                         self.args.uncached_connections, {200}),
            "cached": (workloads.hot_search(count=20, stores=stores), self.args.connections,
                       {200}),
            "listing": (workloads.listing_page(store_path), self.args.listing_connections, {200}),
            "orders": (always_confirmed_orders(store_id=WARM_STORE, count=5_000),
                       self.args.pool_buyers, {201}),
        }  # fmt: skip
        print(f"pool: persistent connections vs pools of {sizes} per worker", flush=True)
        main_stack = self.stack
        try:
            for stack in stacks.values():
                if stack is not main_stack:
                    stack.start(email_backend=FAST_EMAIL)
                self.stack = stack
                self.warm([workloads.get(FLOOR_PATH)])
                self.warm(workloads_by_name["cached"][0])
                self.warm(workloads_by_name["orders"][0][:100])
            for workload, (lines, clients, ok) in workloads_by_name.items():
                self.pool_rounds(workload, lines, stacks, clients=clients, ok_statuses=ok)
        finally:
            self.stack = main_stack
            for stack in stacks.values():
                if stack is not main_stack:
                    stack.stop()
            dataset.emails_skip(after_order_id=marker)

    def pool_rounds(
        self, workload: str, lines: list, stacks: dict[str, Stack], *, clients: int, ok_statuses
    ) -> None:  # fmt: skip
        slice_s = max(2.0, self.profile.duration_s / PAIRED_ROUNDS)
        runs: dict[str, list[dict]] = {mode: [] for mode in stacks}
        chunk = len(lines) // (PAIRED_ROUNDS * len(stacks)) if workload == "uncached" else 0
        main_stack = self.stack
        try:
            modes = list(stacks)
            for round_number in range(PAIRED_ROUNDS):
                # Each round starts with another mode: no mode always runs first or last.
                shift = round_number % len(modes)
                for number, mode in enumerate(modes[shift:] + modes[:shift]):
                    self.stack = stack = stacks[mode]
                    start = (round_number * len(stacks) + number) * chunk
                    part = lines[start : start + chunk] if chunk else lines
                    with ConnectionCounter(self.db_url, stack.application_name) as counter:
                        result = self.load(
                            f"{mode}-{workload}", part, connections=clients, duration=slice_s,
                            group="pool", ok_statuses=ok_statuses,
                        )  # fmt: skip
                    result["db_connections"] = counter.summary()
                    runs[mode].append(result)
        finally:
            self.stack = main_stack
        baseline = runs.pop("persistent")
        self.record(with_connections(merged(baseline), baseline))
        for slices in runs.values():
            result = with_paired_ratio(merged(slices), slices, baseline)
            result["floor"] = f"persistent-{workload}"
            self.record(with_connections(result, slices))


def server_latency_ms(log: Path, offset: int) -> dict[str, float]:
    """Percentiles of `duration_ms` in the request log lines gunicorn wrote after `offset`: the
    time inside the server, without the waits for a CPU that a loaded machine adds between the
    socket and a worker thread (wrk's latency has both)."""
    if not log.exists():
        return {}
    with open(log, "rb") as lines:
        lines.seek(offset)
        durations = sorted(
            json.loads(line)["duration_ms"]
            for line in lines
            if line.startswith(b"{") and b'"duration_ms"' in line
        )
    if not durations:
        return {}
    return {
        f"p{p}": round(durations[min(len(durations) - 1, len(durations) * p // 100)], 2)
        for p in (50, 95, 99)
    }


def always_confirmed_orders(*, store_id: int, count: int) -> list[workloads.RequestLine]:
    """orders-hot-10's kind of orders on the store's first 10 products, stocked so deep that
    every one is confirmed."""
    products = dataset.hot_products(store_id=store_id, count=10)
    dataset.stock_set(store_id=store_id, product_ids=products, quantity=10**9)
    orders = workloads.multi_sku_orders(product_ids=products, count=count)
    return workloads.order_requests(store_id=store_id, orders=orders)


def merged(slices: list[dict]) -> dict:
    """One result from several runs of one scenario: counts, durations and CPU summed, each
    latency percentile the median of the runs' (a whole's percentiles cannot be rebuilt from
    them), stock checks summed and passed only if every run passed."""
    first, total = slices[0], lambda key: sum(s[key] for s in slices)
    duration = total("duration_s")
    statuses: dict[str, int] = {}
    for s in slices:
        for code, count in s["statuses"].items():
            statuses[code] = statuses.get(code, 0) + count
    cpu = {key: round(sum(s["cpu_s"][key] for s in slices), 2) for key in first["cpu_s"]}
    result = {
        **first,
        "runs": len(slices),
        "requests": total("requests"),
        "duration_s": round(duration, 2),
        "throughput_rps": round(total("requests") / duration, 1),
        "latency_ms": {
            p: round(statistics.median(s["latency_ms"][p] for s in slices), 2)
            for p in first["latency_ms"]
        },
        "statuses": statuses,
        "errors": total("errors"),
        "http_5xx": total("http_5xx"),
        "socket_errors": total("socket_errors"),
        "cpu_s": cpu,
        "loadgen_cpu_pct_of_one_core": round(100 * cpu["loadgen"] / duration, 1),
    }
    if "checks" in first:
        checks = {
            key: all(s["checks"][key] for s in slices)
            if isinstance(value, bool)
            else sum(s["checks"][key] for s in slices)
            for key, value in first["checks"].items()
        }
        checks["orders_per_s"] = round(
            (checks["orders_confirmed"] + checks["orders_rejected"]) / duration, 1
        )
        result["checks"] = checks
    return result


def with_paired_ratio(result: dict, runs: list[dict], floors: list[dict]) -> dict:
    """`result` with its ratio to the floor: the median of each run's ratio to the floor run
    paired with it. Also kept: each floor run's throughput and how busy the machine was
    (cores) during each run, which tell a slow machine from a stalled one."""
    pairs = list(zip(runs, floors, strict=True))
    each = [run["throughput_rps"] / floor["throughput_rps"] for run, floor in pairs]
    result["paired_floor"] = {
        "floor_rps": [floor["throughput_rps"] for floor in floors],
        "floor_machine_cores": [_busy_cores(floor) for floor in floors],
        "machine_cores": [_busy_cores(run) for run in runs],
        "ratios": [round(ratio, 3) for ratio in each],
    }
    result["ratio_to_floor"] = round(statistics.median(each), 3)
    return result


class ConnectionCounter:
    """Counts, every 0.1 s while a load runs, the PostgreSQL connections of one stack's gunicorn
    (its application_name) and how many of them are running a statement."""

    def __init__(self, url: str, application_name: str) -> None:
        self.url = url
        self.application_name = application_name
        self.samples: list[tuple[int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.wait(0.1):
                row = conn.execute(
                    "SELECT count(*), count(*) FILTER (WHERE state = 'active') "
                    "FROM pg_stat_activity WHERE application_name = %s",
                    (self.application_name,),
                ).fetchone()
                self.samples.append((row[0], row[1]) if row else (0, 0))

    def __enter__(self) -> "ConnectionCounter":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict:
        opened = [total for total, _ in self.samples] or [0]
        active = [busy for _, busy in self.samples] or [0]
        return {
            "max": max(opened),
            "mean": round(statistics.mean(opened), 1),
            "max_active": max(active),
            "mean_active": round(statistics.mean(active), 1),
        }


def with_connections(result: dict, slices: list[dict]) -> dict:
    """`result` with its slices' connection counts: the highest maximum, the mean of means."""
    counts = [s["db_connections"] for s in slices]
    result["db_connections"] = {
        "max": max(c["max"] for c in counts),
        "mean": round(statistics.mean(c["mean"] for c in counts), 1),
        "max_active": max(c["max_active"] for c in counts),
        "mean_active": round(statistics.mean(c["mean_active"] for c in counts), 1),
    }
    return result


def _busy_cores(result: dict) -> float:
    return round(result["cpu_s"]["machine"] / result["cpu_s"]["window_s"], 2)


def ratios(results: list[dict]) -> None:
    """Ratios to the named floor, for the runs not measured against paired floor runs, and
    latencies compared."""
    by_name = {r["name"]: r for r in results}
    for result in results:
        floor = by_name.get(result.get("floor", ""))
        if floor and floor["throughput_rps"] and "paired_floor" not in result:
            result["ratio_to_floor"] = round(result["throughput_rps"] / floor["throughput_rps"], 3)
        other = by_name.get(result.get("compare_latency_with", ""))
        if other:
            result["latency_vs"] = {
                p: round(result["latency_ms"][p] / other["latency_ms"][p], 2)
                for p in ("p50", "p95", "p99")
            }


def prepare_realistic(size: dataset.SeedSize, *, env: dict[str, str], reseed: bool) -> None:
    """The realistic catalog's database, as prepare() readies the main one (through manage.py
    and SQL: this process's Django is set up for the main database)."""
    url = env["DATABASE_URL"]
    if dataset.database_create_if_missing(url=url):
        print(f"  created database {url.rsplit('/', 1)[1]}", flush=True)
    dataset.manage("migrate", "--no-input", env=env)
    if reseed or not dataset.realistic_is_seeded_at(size, url=url):
        print(
            f"  seeding a realistic catalog of {size.products:,} products x {size.stores} stores"
            f" ({size.inventory_per_store:,} stock rows each); takes a while once",
            flush=True,
        )
        started = time.monotonic()
        dataset.seed(size, env=env, catalog="realistic")
        print(f"  seeded in {time.monotonic() - started:.0f} s", flush=True)
    dataset.statistics_refresh(url=url)
    dataset.cache_warm(url=url)


def bench_env(*, database: str, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TERM", "USER"}}
    env.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}",
        REDIS_URL=redis_url,
        CACHE_KEY_PREFIX="bench",
        SECRET_KEY="bench-only-not-secret",
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SUGGEST_RATE_LIMIT="1000000000",
        DJANGO_SETTINGS_MODULE="bench.settings",
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="INFO",
    )
    return env


def gunicorn_overrides(args: argparse.Namespace) -> tuple[str, ...]:
    """The server shape asked for on the command line, over gunicorn.conf.py's."""
    threads = 1 if args.worker_class == "sync" else args.threads
    overrides = {
        "--workers": args.workers,
        "--worker-class": args.worker_class,
        "--threads": threads,
    }
    return tuple(f"{flag}={value}" for flag, value in overrides.items() if value is not None)


def server_shape(stack: Stack) -> str:
    assert stack.shape is not None, "the stack was started"
    shape = stack.shape
    return f"{shape.workers} workers x {shape.threads} {shape.worker_class} threads"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Storefront load benchmarks (bench/README.md).")
    parser.add_argument("--quick", action="store_true", help="50k products, 5 s per scenario")
    parser.add_argument("--reseed", action="store_true", help="seed again even if sizes match")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument(
        "--typesense-port", type=int, default=8108, help="and the next one for its peering"
    )
    parser.add_argument(
        "--realistic-database",
        help="the realistic catalog's database for versus (default: the bench database + "
        "_realistic)",
    )
    parser.add_argument(
        "--realistic-products", type=int, help="its size (default: 1,000,000, --quick 20,000)"
    )
    parser.add_argument(
        "--workers", type=int, help="gunicorn worker processes (default: gunicorn.conf.py's)"
    )
    parser.add_argument(
        "--threads", type=int, help="threads per gthread worker (default: gunicorn.conf.py's)"
    )
    parser.add_argument(
        "--worker-class", choices=["gthread", "sync"], help="sync: one thread per worker"
    )
    parser.add_argument("--connections", type=int, default=32, help="for floor and cached paths")
    parser.add_argument("--uncached-connections", type=int, default=8)
    parser.add_argument("--listing-connections", type=int, default=16)
    parser.add_argument("--buyers", type=int, default=500, help="concurrent buyers (hot SKU)")
    parser.add_argument(
        "--pool-sizes", default="8,4",
        help="pool: DB_POOL_MAX_SIZE of each pooled stack, beside persistent connections "
        "(their ports follow --port)",
    )  # fmt: skip
    parser.add_argument("--pool-buyers", type=int, default=64, help="pool: order clients")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument(
        "--database", help="the bench database (default: storefront_bench, _quick with --quick)"
    )
    parser.add_argument("--products", type=int, help="catalog size (default: the profile's)")
    parser.add_argument(
        "--growth",
        default="",
        metavar="SIZES",
        help="uncached search at each catalog size, e.g. 100k,1m,5m: one database per size "
        "(--growth-database-prefix + _size), then a growth table",
    )
    parser.add_argument("--growth-database-prefix", default="storefront_bench_growth")
    parser.add_argument(
        "--only",
        default="",
        help="comma list of: floors,search,uncached_search,listings,orders,slow_email,"
        "bulk_sync,versus,pool,replica",
    )
    parser.add_argument(
        "--replica",
        action="store_true",
        help="only the replica scenario: search and listing with reads on a local standby, "
        "next to the same load without (same as --only replica)",
    )
    parser.add_argument("--output", default=str(RESULTS / "latest"), help="path without suffix")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the server (a settings experiment); repeatable",
    )
    return parser.parse_args()


def prepare(
    args: argparse.Namespace, profile: Profile, env: dict[str, str], *, catalog: bool, orders: bool
) -> str:
    """The main bench database, migrated; seeded and warmed if a selected step reads its
    catalog (`catalog`; the floors and versus do not); the staff token if seeded."""
    if dataset.database_create_if_missing(url=env["DATABASE_URL"]):
        print(f"created database {profile.database}", flush=True)
    dataset.manage("migrate", "--no-input", env=env)
    os.environ.update(env)
    import django

    django.setup()
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()  # our own Redis database only
    if not catalog:
        return ""
    if args.reseed or not dataset.is_seeded_at(profile.size):
        size = profile.size
        print(
            f"seeding {size.products:,} products x {size.stores} stores "
            f"({size.inventory_per_store:,} stock rows each); takes a while once",
            flush=True,
        )
        started = time.monotonic()
        dataset.seed(size, env=env)
        print(f"  seeded in {time.monotonic() - started:.0f} s", flush=True)
    if orders:
        print(f"resetting orders ({profile.listing_orders:,} history orders for store 1)")
        dataset.orders_reset(listing_store_id=LISTING_STORE, listing_orders=profile.listing_orders)
    dataset.statistics_refresh(url=env["DATABASE_URL"])
    dataset.cache_warm(url=env["DATABASE_URL"])
    return dataset.staff_token()


GROWTH_SIZES = {"100k": 100_000, "1m": 1_000_000, "5m": 5_000_000}


def growth(args: argparse.Namespace) -> None:
    """bench/run.py again for each size, uncached search only, in its own database (a process
    each: Django is set up for one database per process); then the growth table."""
    rows = []
    for label in args.growth.split(","):
        output = WORK / f"growth-{label}"
        command = [
            sys.executable, __file__, "--only", "uncached_search",
            "--products", str(GROWTH_SIZES[label]),
            "--database", f"{args.growth_database_prefix}_{label}",
            "--port", str(args.port), "--redis-url", args.redis_url, "--output", str(output),
            *[f"--env={item}" for item in args.env],
        ]  # fmt: skip
        print(f"growth: {label} products", flush=True)
        subprocess.run(command, check=True)
        report = json.loads(output.with_suffix(".json").read_text())
        by_name = {s["name"]: s for s in report["scenarios"]}
        rows.append((label, by_name["search-uncached-1"], by_name["search-uncached"]))
    print(
        "\nuncached search growth: single client p50/p95/p99 ms at the client (p95 growth), "
        "in the server; 8 clients req/s, p95 ms"
    )
    base_p95 = rows[0][1]["latency_ms"]["p95"]
    base_server = rows[0][1]["server_latency_ms"]["p95"]
    for label, single, many in rows:
        one, server = single["latency_ms"], single["server_latency_ms"]
        print(
            f"  {label:>5}  {one['p50']:6.1f} {one['p95']:6.1f} {one['p99']:6.1f}"
            f" (x{one['p95'] / base_p95:4.2f})  server {server['p50']:5.1f} {server['p95']:6.1f}"
            f" (x{server['p95'] / base_server:4.2f})  {many['throughput_rps']:7.1f} req/s"
            f"  p95 {many['latency_ms']['p95']:6.1f}",
            flush=True,
        )
    summary = [
        {"size": label, "single": single, "concurrent": many} for label, single, many in rows
    ]
    Path(args.output + "-growth.json").write_text(json.dumps(summary, indent=2) + "\n")


def main() -> None:
    args = parse_args()
    if args.growth:
        growth(args)
        return
    profile = QUICK if args.quick else FULL
    if args.database or args.products:
        size = dataclasses.replace(profile.size, products=args.products or profile.size.products)
        database = args.database or profile.database
        profile = dataclasses.replace(profile, database=database, size=size)
    env = bench_env(database=profile.database, redis_url=args.redis_url)
    extra_env = dict(item.split("=", 1) for item in args.env)
    env.update(extra_env)
    if args.replica:
        args.only = "replica"
    selected = [s for s in args.only.split(",") if s] or [
        "floors", "search", "listings", "orders", "slow_email", "bulk_sync", "pool", "versus",
    ]  # fmt: skip
    if "slow_email" in selected and "orders" not in selected:
        selected.insert(0, "orders")  # it replays the orders scenario's order lists
    if "floors" not in selected:
        selected.insert(0, "floors")  # every ratio needs it
    wrk = ensure_wrk()
    started_at = datetime.now(UTC)
    started = time.monotonic()
    # The floors read no catalog; versus and replica seed databases of their own.
    token = prepare(
        args, profile, env, catalog=bool(set(selected) - {"floors", "versus", "replica"}),
        orders=bool({"listings", "orders", "bulk_sync"} & set(selected)),
    )  # fmt: skip
    stack = Stack(
        StackConfig(
            port=args.port, env=env, log_dir=RESULTS / "logs",
            gunicorn_overrides=gunicorn_overrides(args),
        )
    )  # fmt: skip
    bench = Bench(args=args, profile=profile, env=env, stack=stack, wrk=wrk, token=token)
    try:
        print("starting gunicorn + celery")
        stack.start(email_backend=FAST_EMAIL)
        print(f"gunicorn: {server_shape(stack)}")
        for step in selected:
            getattr(bench, step)()
    finally:
        stack.stop()
    ratios(bench.results)
    report = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "wall_s": round(time.monotonic() - started, 1),
        "mode": "quick" if args.quick else "full",
        "machine": machine_info(),
        "dataset": vars(profile.size) | {"history_orders_store_1": profile.listing_orders},
        "server": {
            "gunicorn": server_shape(stack),
            "celery": "1 worker, prefork concurrency 2, beat",
            "debug": False,
            "extra_env": extra_env,
        },
        "loadgen": "wrk 4.1 (1 thread) + bench/replay.lua",
        "code": code_state(),
        "scenarios": bench.results,
    }
    if "versus" in selected:
        report["typesense"] = {
            "version": typesense_server.VERSION,
            "search": "query_by title,description; per_page 20; its defaults otherwise",
            "realistic_products": args.realistic_products or profile.realistic_products,
        }
        report["versus"] = versus_rows(report)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    write_chart(report, output.with_suffix(".png"))
    print_table(report)
    print(f"\nwrote {output.with_suffix('.json')} and {output.with_suffix('.png')}")


def code_state() -> dict:
    """The commit measured, and files that differed from it (the tree is shared)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    dirty = git("status", "--porcelain", "--", "config", "storefront").splitlines()
    return {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted": dirty}


def machine_info() -> dict:
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    with_version = subprocess.run(
        ["psql", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgres": with_version,
    }


if __name__ == "__main__":
    main()
