"""`make run` with no configuration: SQLite, the database cache and the filesystem broker.

Runs the real thing in subprocesses (two gunicorn workers sharing one SQLite file, a Celery
worker draining kombu's filesystem queue) and checks that orders, throttling and the
asynchronous email all work without any server.
"""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.live import free_port, release_port, wait_until

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def request(url: str, body: dict | None = None) -> tuple[int, dict, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("embedded")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        SECRET_KEY="embedded-test-secret",
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1",
        STOREFRONT_VAR_DIR=str(var_dir),
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(var_dir / "emails"),
        SUGGEST_RATE_LIMIT="5",
    )

    def manage(*args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
            capture_output=True,
        )  # fmt: skip

    manage("migrate", "--no-input")
    manage("createcachetable")
    manage("seed_data", "--stores", "2", "--products", "60", "--inventory-per-store", "60",
           "--no-progress")  # fmt: skip

    port = free_port()
    log = open(var_dir / "processes.log", "w")  # noqa: SIM115 - closed in the teardown
    processes = [
        subprocess.Popen(
            [BIN / "gunicorn", "config.wsgi:application", "--workers", "2",
             "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [BIN / "celery", "-A", "config", "worker", "--beat", "--concurrency", "1",
             "--loglevel", "INFO", "--schedule", str(var_dir / "beat-schedule")],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        ),
    ]  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    try:
        wait_until(
            lambda: request(f"{base}/healthz")[0] == 200, timeout=60, what="embedded gunicorn"
        )
        yield base, var_dir
    finally:
        release_port(port)
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        log.close()


def stock_of(base: str, store_id: int, product_id: int) -> int:
    page, quantities = 1, {}
    while True:
        status, body, _ = request(f"{base}/stores/{store_id}/inventory/?page={page}&page_size=100")
        assert status == 200, body
        quantities.update({row["product_id"]: row["quantity"] for row in body["results"]})
        if not body.get("next"):
            return quantities[product_id]
        page += 1


def first_stocked_product(base: str, store_id: int) -> tuple[int, int]:
    status, body, _ = request(f"{base}/stores/{store_id}/inventory/?page_size=100")
    assert status == 200, body
    row = next(row for row in body["results"] if row["quantity"] >= 5)
    return row["product_id"], row["quantity"]


def test_order_deducts_stock_and_the_worker_sends_the_email(embedded):
    base, var_dir = embedded
    product_id, before = first_stocked_product(base, 1)

    status, order, _ = request(
        f"{base}/orders/",
        {"store": 1, "items": [{"product_id": product_id, "quantity": 2}],
         "email": "buyer@example.com"},
    )  # fmt: skip

    assert status == 201, order
    assert order["status"] == "CONFIRMED"
    assert stock_of(base, 1, product_id) == before - 2
    email_dir = var_dir / "emails"

    def sent_emails() -> str:
        # The file backend creates its file before writing it: wait for the content.
        return "".join(path.read_text() for path in email_dir.glob("*"))

    try:  # two minutes: the worker polls the filesystem queue on a loaded 2-core machine
        wait_until(lambda: "buyer@example.com" in sent_emails(), timeout=120, what="the email")
    except TimeoutError:
        pytest.fail((var_dir / "processes.log").read_text()[-4000:])
    sent = sent_emails()
    assert f"Order #{order['id']} confirmed" in sent
    assert "buyer@example.com" in sent


def test_concurrent_buyers_across_two_processes_never_oversell(embedded):
    base, _ = embedded
    product_id, stock = first_stocked_product(base, 2)
    buyers = stock + 10

    def buy(_: int) -> str:
        status, body, _headers = request(
            f"{base}/orders/", {"store": 2, "items": [{"product_id": product_id, "quantity": 1}]}
        )
        assert status == 201, body
        return body["status"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = Counter(pool.map(buy, range(buyers)))

    assert outcomes == {"CONFIRMED": stock, "REJECTED": 10}
    assert stock_of(base, 2, product_id) == 0


def test_suggest_rate_limit_is_shared_by_both_processes(embedded):
    base, _ = embedded
    statuses = [request(f"{base}/api/search/suggest/?q=pro")[0] for _ in range(7)]

    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429, 429]


def test_search_with_store_reports_the_inventory_quantity(embedded):
    base, _ = embedded
    _, inventory, _ = request(f"{base}/stores/1/inventory/?page_size=5")
    row = inventory["results"][0]

    status, body, _ = request(
        f"{base}/api/search/products/?store_id=1&q={urllib.parse.quote(row['title'])}"
    )

    assert status == 200, body
    match = next(result for result in body["results"] if result["id"] == row["product_id"])
    assert match["store_quantity"] == row["quantity"]
