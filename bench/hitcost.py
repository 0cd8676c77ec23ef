"""CPU per request of the framework floor, the cached search and suggest hits and an order,
in-process.

    .venv/bin/python bench/hitcost.py [--database storefront_bench_quick] [--rounds 20]
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/hitcost.%p \\
        .venv/bin/python bench/hitcost.py --instructions --requests 200

Calls Django's WSGI application (`config.wsgi.application`, every middleware, settings as in
the bench) directly with the environ wrk's requests would give gunicorn, in one thread, so the
figures leave out load generation, gunicorn's HTTP work and thread scheduling; PostgreSQL's and
Redis' own CPU is not counted either.

Two measures:
- CPU time (`time.process_time()`, user + system) per request, over rounds in which the
  scenarios take turns. On this shared machine the CPU's speed drifts with other tenants' load
  by up to 2x within a minute, so each round's floor/hit ratio is taken first (its scenarios run
  seconds apart) and the median of those is reported, next to the lowest and median times.
- `--instructions`, under callgrind: instructions executed per request, counted only while a
  scenario runs. Repeatable to ~1% whatever the machine does, so it resolves changes of a few
  percent that CPU time cannot; but it misses what a network round trip costs besides its
  instructions (system calls, the wake-up, caches gone cold), so it flatters the hits.

Needs a seeded database (bench/run.py prepares storefront_bench_quick; `manage.py seed_data`
also works) and a Redis database the script may flush.
"""

import argparse
import io
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run, workloads  # noqa: E402

Environ = dict[str, object]
Send = Callable[[int], None]


def environ_for(line: workloads.RequestLine, *, port: int) -> Environ:
    """What gunicorn hands Django for the request wrk sends (bench/replay.lua's headers)."""
    url = urlsplit(line.path)
    return {
        "CONTENT_LENGTH": str(len(line.body.encode())),
        "storefront.body": line.body.encode(),
        "REQUEST_METHOD": line.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": url.path,
        "QUERY_STRING": url.query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "HTTP_HOST": f"127.0.0.1:{port}",
        "CONTENT_TYPE": "application/json",
        "wsgi.url_scheme": "http",
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def sender(application: Callable, environs: list[Environ], *, expect: str = "200") -> Send:
    """Sends `count` requests, cycling through `environs`, and checks each one's status."""

    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        if not status.startswith(expect):
            raise RuntimeError(f"expected {expect}, got {status}")

    def send(count: int) -> None:
        for index in range(count):
            environ = environs[index % len(environs)]
            environ = dict(environ, **{"wsgi.input": io.BytesIO(environ["storefront.body"])})
            response = application(environ, start_response)
            for _ in response:
                pass
            response.close()  # as gunicorn does: request_finished, connection housekeeping

    return send


def cpu_times(senders: dict[str, Send], *, rounds: int, requests: int) -> None:
    per_request: dict[str, list[float]] = {name: [] for name in senders}
    for _ in range(rounds):
        for name, send in senders.items():
            started = time.process_time()
            send(requests)
            per_request[name].append((time.process_time() - started) / requests * 1e6)
    floors = per_request["floor-django"]
    print(f"{rounds} rounds x {requests} requests; CPU us per request: min, median; floor/hit")
    for name, values in per_request.items():
        line = f"  {name:15} {min(values):6.0f} {statistics.median(values):6.0f}"
        if name != "floor-django":
            per_round = statistics.median(f / v for f, v in zip(floors, values, strict=True))
            line += f"   {per_round:.0%} (of the lowest times: {min(floors) / min(values):.0%})"
        print(line)


def instructions(senders: dict[str, Send], *, requests: int) -> None:
    """Instructions per request, from a callgrind dump taken around each scenario alone."""

    def callgrind(*args: str) -> None:
        subprocess.run(["callgrind_control", *args, str(os.getpid())], check=True, text=True,
                       capture_output=True)  # fmt: skip

    counts: dict[str, float] = {}
    for name, send in senders.items():
        callgrind("--zero")
        callgrind("--instr=on")
        send(requests)
        callgrind(f"--dump={name}")
        callgrind("--instr=off")
    for dump in Path("/tmp").glob(f"hitcost.{os.getpid()}.*"):  # the documented out-file
        text = dump.read_text()
        name = re.search(r"^desc: Trigger: .*?(\S+)$", text, re.M)
        total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        if name and total:
            counts[name.group(1)] = int(total.group(1)) / requests / 1000
        dump.unlink()
    print(f"{requests} requests each; thousands of instructions per request; floor/hit")
    for name in senders:
        ratio = "" if name == "floor-django" else f"   {counts['floor-django'] / counts[name]:.0%}"
        print(f"  {name:15} {counts[name]:7.0f}{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default=run.QUICK.database)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--requests", type=int, default=300, help="per scenario and round")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--instructions", action="store_true", help="count, under callgrind")
    parser.add_argument("--port", type=int, default=8100, help="only the Host header")
    args = parser.parse_args()
    os.environ.update(run.bench_env(database=args.database, redis_url=args.redis_url))
    # Hits only: an entry expiring mid-run would add a full search to some round.
    os.environ["SEARCH_CACHE_TTL"] = "86400"

    import django

    django.setup()
    import logging

    from django.core.cache import cache
    from django.db import connection

    from config.wsgi import application  # sets Django up again, logging included

    # The bench logs one JSON line per request to a file; formatting and writing them is part of
    # every scenario's cost, so it stays, sent nowhere.
    devnull = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the process)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(devnull)

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM stores_store")
        stores = cursor.fetchone()[0]
    scenarios = {
        "floor-django": [workloads.get("/bench/floor/")],
        "search-cached": workloads.hot_search(count=20, stores=stores),
        "suggest-cached": workloads.hot_suggest(count=20),
        # Always confirmed, so that every request runs the same code.
        "order-place": run.always_confirmed_orders(store_id=run.HOT_STORE, count=20),
    }
    cache.clear()  # no entries written by older code
    senders = {
        name: sender(
            application,
            [environ_for(line, port=args.port) for line in lines],
            expect="201" if name == "order-place" else "200",
        )
        for name, lines in scenarios.items()
    }
    for send in senders.values():
        send(200)  # warm: caches filled, connections open, statements prepared
    if args.instructions:
        instructions(senders, requests=args.requests)
    else:
        cpu_times(senders, rounds=args.rounds, requests=args.requests)


if __name__ == "__main__":
    main()
