"""Injected faults in the cache, the broker and the Celery worker, on real processes: what users
see stays correct, and no order or confirmation email is lost or doubled."""

import os
import re
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.live import app_env, publish, wait_until
from tests.stock import assert_stock_accounted

pytestmark = pytest.mark.slow

SEND_TASK = "storefront.notifications.tasks.send_pending_order_emails"
DRAIN_TASK = "storefront.notifications.tasks.drain_order_emails"


def _in_stock(database, *, store: int = 1, count: int = 1, at_least: int = 5) -> list[int]:
    return [
        row[0]
        for row in database.rows(
            "SELECT product_id FROM stores_inventory WHERE store_id = %s AND quantity >= %s "
            "ORDER BY product_id LIMIT %s",
            (store, at_least, count),
        )
    ]


def _place(url: str, product_id: int, *, email: str = "", quantity: int = 1) -> requests.Response:
    body = {"store": 1, "items": [{"product_id": product_id, "quantity": quantity}]}
    if email:
        body["email"] = email
    return requests.post(f"{url}/orders/", json=body, timeout=30)


def _stock(database, product_id: int) -> int:
    return database.scalar(
        "SELECT quantity FROM stores_inventory WHERE store_id = 1 AND product_id = %s",
        (product_id,),
    )


def _emails_per_order(mail_dir: Path) -> dict[int, int]:
    """How many confirmation emails the file backend wrote for each order id."""
    counts: dict[int, int] = {}
    for path in mail_dir.glob("*.log") if mail_dir.exists() else []:
        for order_id in re.findall(r"^Subject: Order #(\d+) confirmed$", path.read_text(), re.M):
            counts[int(order_id)] = counts.get(int(order_id), 0) + 1
    return counts


def _finished(worker, task: str) -> int:
    """How many runs of `task` the worker's log reports as done."""
    return len(re.findall(rf"Task {re.escape(task)}\[[^\]]+\] succeeded", worker.output()))


def _outbox(database) -> dict[int, str]:
    return dict(database.rows("SELECT order_id, status FROM notifications_orderemail"))


def _worker_env(database, broker, workdir: Path, **extra: str) -> dict[str, str]:
    settings = {
        "CELERY_BROKER_URL": broker.broker_url(),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(workdir / "mail"),
        "ORDER_EMAIL_DRAIN_AFTER_SECONDS": "0",
        "LOG_LEVEL": "INFO",
    }
    return app_env(
        database_url=database.url,
        redis_url=broker.url(0),
        workdir=workdir,
        **{**settings, **extra},
    )


def test_redis_down_search_and_orders_still_answer_and_readiness_says_cache(
    fresh_database, redis_server, start_gunicorn, workdir
):
    database = fresh_database("redis_down")
    redis = redis_server()
    server = start_gunicorn(
        app_env(database_url=database.url, redis_url=redis.url(0), workdir=workdir)
    )
    url = server.base_url
    search = f"{url}/api/search/products/?q=pro&store_id=1"
    warm = requests.get(search, timeout=10)
    assert warm.status_code == 200 and warm.json()["results"]
    (product_id,) = _in_stock(database)
    stock_before = _stock(database, product_id)

    redis.stop()

    cold = requests.get(search, timeout=10)
    assert cold.status_code == 200
    assert cold.json()["results"] == warm.json()["results"]
    assert requests.get(f"{url}/api/search/products/?q=lap", timeout=10).status_code == 200
    # The rate limit fails open: autocomplete keeps answering, past the 20-per-minute limit.
    suggest = [requests.get(f"{url}/api/search/suggest/?q=pro", timeout=10) for _ in range(25)]
    assert {response.status_code for response in suggest} == {200}
    placed = _place(url, product_id, email="ann@example.com")
    assert placed.status_code == 201 and placed.json()["status"] == "CONFIRMED"
    assert _stock(database, product_id) == stock_before - 1
    # The broker lives on that Redis too: the email is parked in the outbox, not lost.
    assert _outbox(database) == {placed.json()["id"]: "PENDING"}
    ready = requests.get(f"{url}/readyz", timeout=10)
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["cache"].startswith("down")

    redis.start()
    wait_until(
        lambda: requests.get(f"{url}/readyz", timeout=10).status_code == 200,
        timeout=20,
        what="readiness after Redis came back",
    )
    assert requests.get(search, timeout=10).json()["results"] == warm.json()["results"]


def test_broker_down_orders_confirm_and_every_email_goes_out_once_when_it_returns(
    fresh_database, redis_server, start_gunicorn, start_worker, workdir
):
    database = fresh_database("broker_down")
    cache = redis_server()
    broker = redis_server()
    broker.stop()
    server = start_gunicorn(
        app_env(
            database_url=database.url,
            redis_url=cache.url(0),
            workdir=workdir,
            CELERY_BROKER_URL=broker.broker_url(),
        )
    )
    products = _in_stock(database, count=5)
    stock_before = {product_id: _stock(database, product_id) for product_id in products}
    orders = 20

    with ThreadPoolExecutor(8) as pool:
        placed = list(
            pool.map(
                lambda n: _place(server.base_url, products[n % 5], email=f"c{n}@example.com"),
                range(orders),
            )
        )

    assert [response.status_code for response in placed] == [201] * orders
    assert {response.json()["status"] for response in placed} == {"CONFIRMED"}
    order_ids = {response.json()["id"] for response in placed}
    for product_id in products:
        assert _stock(database, product_id) == stock_before[product_id] - orders // 5
    assert _outbox(database) == dict.fromkeys(order_ids, "PENDING")
    ready = requests.get(f"{server.base_url}/readyz", timeout=10)
    assert ready.status_code == 503 and ready.json()["checks"]["broker"].startswith("down")

    broker.start()
    env = _worker_env(database, cache, workdir)
    env["CELERY_BROKER_URL"] = broker.broker_url()
    worker = start_worker(env, concurrency=2)
    # Two overlapping beat ticks: both drains see all 20 rows, each row is sent once.
    publish(env, (DRAIN_TASK, []), (DRAIN_TASK, []))
    wait_until(
        lambda: set(_outbox(database).values()) == {"SENT"}, timeout=60, what="all emails SENT"
    )
    # Late send tasks (redelivered messages) and another drain change nothing.
    done = _finished(worker, SEND_TASK)
    publish(env, *[(SEND_TASK, [])] * orders, (DRAIN_TASK, []))
    wait_until(
        lambda: _finished(worker, SEND_TASK) >= done + orders,
        timeout=60,
        what="duplicate tasks handled",
    )
    assert _emails_per_order(workdir / "mail") == dict.fromkeys(order_ids, 1)
    assert requests.get(f"{server.base_url}/readyz", timeout=10).status_code == 200


def test_worker_killed_mid_email_sends_it_exactly_once(
    fresh_database, redis_server, start_gunicorn, start_worker, workdir
):
    database = fresh_database("worker_kill")
    broker = redis_server()
    env = _worker_env(
        database,
        broker,
        workdir / "kill",
        EMAIL_BACKEND="tests.slow_email.SlowFileBackend",
        SLOW_EMAIL_SECONDS="3",
    )
    mail_dir = Path(env["EMAIL_FILE_PATH"])
    attempts = mail_dir.parent / "attempts"
    server = start_gunicorn({**env, "LOG_LEVEL": "WARNING"})
    worker = start_worker(env)
    first, second = _in_stock(database, count=2)

    # 1. The pool child dies mid-send: the worker requeues the message (acks_late +
    #    reject_on_worker_lost) and a fresh child sends it.
    order_1 = _place(server.base_url, first, email="kill-child@example.com").json()["id"]
    marker = wait_until(lambda: next(attempts.iterdir(), None), timeout=30, what="email attempt")
    os.kill(int(marker.name.split("-")[0]), signal.SIGKILL)
    wait_until(
        lambda: _outbox(database).get(order_1) == "SENT", timeout=60, what="email after requeue"
    )
    assert _emails_per_order(mail_dir) == {order_1: 1}
    assert len(list(attempts.iterdir())) == 2

    # 2. The whole worker dies mid-send (no shutdown at all). The send transaction dies with
    #    it, the row stays PENDING, and the next drain after a restart sends it once.
    order_2 = _place(server.base_url, second, email="kill-all@example.com").json()["id"]
    wait_until(lambda: len(list(attempts.iterdir())) == 3, timeout=30, what="second attempt")
    worker.kill()
    wait_until(
        lambda: (
            not database.scalar(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = 'notifications_orderemail' AND l.mode = 'RowShareLock'"
            )
        ),
        timeout=30,
        what="the killed worker's transaction to end",
    )
    assert _outbox(database)[order_2] == "PENDING"
    worker.start()
    publish(env, (DRAIN_TASK, []))
    wait_until(
        lambda: _outbox(database).get(order_2) == "SENT", timeout=60, what="email after restart"
    )
    # A send task arriving late (a redelivered message, say) sends nothing more.
    done = _finished(worker, SEND_TASK)
    publish(env, (SEND_TASK, []))
    wait_until(
        lambda: _finished(worker, SEND_TASK) > done, timeout=30, what="duplicate task handled"
    )
    assert _emails_per_order(mail_dir) == {order_1: 1, order_2: 1}


def test_broker_killed_under_order_load_the_worker_lives_and_every_email_goes_out_once(
    fresh_database, redis_server, start_gunicorn, start_worker, start_beat, workdir
):
    """The broker dies while the worker holds a send task waiting out its batch window (an
    unacknowledged ETA message) and orders keep coming; nobody restarts anything by hand."""
    database = fresh_database("broker_kill")
    cache = redis_server()
    broker = redis_server()
    env = _worker_env(
        database,
        cache,
        workdir / "broker_kill",
        CELERY_BROKER_URL=broker.broker_url(),
        # Long enough that the worker surely holds a send task when the broker goes.
        ORDER_EMAIL_BATCH_WINDOW_MS="3000",
    )
    server = start_gunicorn({**env, "LOG_LEVEL": "WARNING"})
    worker = start_worker(env, concurrency=2)
    start_beat(env)  # as Compose runs it: the drain's schedule outside the worker
    products = _in_stock(database, count=5)
    stock_before = {product_id: _stock(database, product_id) for product_id in products}
    stop = threading.Event()
    answers: list[int] = []

    def buyer(n: int) -> None:
        while not stop.is_set():
            placed = _place(server.base_url, products[n % 5], email=f"b{n}@example.com")
            answers.append(placed.status_code)

    def holding_a_send_task() -> bool:
        log = worker.output()
        received = set(re.findall(rf"Task {re.escape(SEND_TASK)}\[([^\]]+)\] received", log))
        return bool(received - set(re.findall(r"\[([^\]]+)\] succeeded", log)))

    with ThreadPoolExecutor(4) as pool:
        for n in range(4):
            pool.submit(buyer, n)
        wait_until(holding_a_send_task, timeout=30, what="a send task waiting in the worker")
        broker.stop()
        during = len(answers)
        wait_until(lambda: len(answers) >= during + 20, timeout=30, what="orders while down")
        broker.start()
        after = len(answers)
        wait_until(lambda: len(answers) >= after + 20, timeout=30, what="orders once back")
        stop.set()

    assert set(answers) == {201}, answers
    assert worker.process.poll() is None, worker.output()[-4000:]
    wait_until(worker.answers_ping, timeout=60, what="the worker answering ping")
    confirmed = {
        row[0] for row in database.rows("SELECT id FROM orders_order WHERE status = 'CONFIRMED'")
    }
    assert confirmed and set(_outbox(database)) == confirmed
    wait_until(
        lambda: set(_outbox(database).values()) == {"SENT"}, timeout=120, what="all emails SENT"
    )
    assert _emails_per_order(Path(env["EMAIL_FILE_PATH"])) == dict.fromkeys(confirmed, 1)
    assert_stock_accounted(database, stock_before)
    assert "Unrecoverable error" not in worker.output()
