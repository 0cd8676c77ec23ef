"""Profiles one benchmark path in-process with pyinstrument (one thread, no contention).

    .venv/bin/python bench/profile.py orders-hot-10 [--quick] [--requests 300]

Runs the same requests as the scenario through Django's full WSGI handler and middleware
(django.test.Client, settings as in the bench) against the bench database, and writes
bench/results/profile-<scenario>.txt (and .html). Run bench/run.py once first: it prepares
the database.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run, workloads  # noqa: E402

SCENARIOS = ["floor-django", "search-uncached", "search-cached", "suggest-cached",
             "inventory-deep", "orders-deep", "orders-hot-1", "orders-hot-10"]  # fmt: skip


def requests_for(name: str, profile: run.Profile, count: int) -> tuple[list, bool]:
    """(request lines, needs the staff token) exactly as bench/run.py builds them."""
    from bench import dataset

    stores = profile.size.stores
    if name == "floor-django":
        return [workloads.get("/bench/floor/")], False
    if name == "search-uncached":
        return workloads.uncached_search(count=count, stores=stores, seed=99), False
    if name == "search-cached":
        return workloads.hot_search(count=20, stores=stores), False
    if name == "suggest-cached":
        return workloads.hot_suggest(count=20), False
    if name == "inventory-deep":
        pages = profile.size.inventory_per_store // 20
        return workloads.deep_pages(
            path=f"/stores/{run.LISTING_STORE}/inventory/", pages=pages, count=count
        ), False
    if name == "orders-deep":
        pages = profile.listing_orders // 20
        return workloads.deep_pages(
            path=f"/stores/{run.LISTING_STORE}/orders/", pages=pages, count=count
        ), True
    products = dataset.hot_products(store_id=run.HOT_STORE, count=11)
    if name == "orders-hot-1":
        dataset.stock_set(store_id=run.HOT_STORE, product_ids=products[:1], quantity=count // 5)
        orders = workloads.single_sku_orders(product_id=products[0], count=count)
    else:
        dataset.stock_set(store_id=run.HOT_STORE, product_ids=products[1:], quantity=count)
        orders = workloads.multi_sku_orders(product_ids=products[1:], count=count)
    return workloads.order_requests(store_id=run.HOT_STORE, orders=orders), False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    profile = run.QUICK if args.quick else run.FULL
    os.environ.update(
        run.bench_env(database=profile.database, redis_url="redis://127.0.0.1:6379/5")
    )
    os.environ["EMAIL_BACKEND"] = run.FAST_EMAIL
    os.environ["LOG_LEVEL"] = "WARNING"  # the profile is about the request, not stdout

    import django

    django.setup()
    from django.test import Client
    from pyinstrument import Profiler

    from bench import dataset

    lines, needs_token = requests_for(args.scenario, profile, args.requests)
    headers = {"HTTP_AUTHORIZATION": f"Token {dataset.staff_token()}"} if needs_token else {}
    client = Client(SERVER_NAME="127.0.0.1", **headers)

    def send(line: workloads.RequestLine) -> int:
        if line.method == "GET":
            return client.get(line.path).status_code
        return client.post(line.path, data=line.body, content_type="application/json").status_code

    for line in lines[: min(len(lines), 20)]:  # warm caches and connections, like run.py
        send(line)
    targets = [lines[i % len(lines)] for i in range(20, 20 + args.requests)]
    statuses: dict[int, int] = {}
    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    profiler.start()
    for line in targets:
        status = send(line)
        statuses[status] = statuses.get(status, 0) + 1
    profiler.stop()
    elapsed = time.perf_counter() - started

    out = ROOT / "bench" / "results" / f"profile-{args.scenario}"
    summary = (
        f"{args.scenario}: {args.requests} requests in {elapsed:.2f} s "
        f"({1000 * elapsed / args.requests:.2f} ms each, one thread, profiler on); "
        f"statuses {json.dumps(statuses)}\n"
    )
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    out.with_suffix(".txt").write_text(summary + text)
    out.with_suffix(".html").write_text(profiler.output_html())
    print(summary + text)


if __name__ == "__main__":
    main()
