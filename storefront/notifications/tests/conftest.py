import contextlib
import threading
from collections.abc import Iterator
from types import SimpleNamespace

import kombu.pools
import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import before_task_publish, task_postrun
from django.db import connection

from config.celery_app import app as celery_app
from storefront.orders.services import OrderLine, order_place
from tests.live import RedisServer


@pytest.fixture
def shop(catalog_factory):
    store = catalog_factory.store("Corner Shop")
    laptop = catalog_factory.product("Laptop", "999.99")
    mouse = catalog_factory.product("Mouse", "19.50")
    catalog_factory.stock(store, laptop, 5)
    catalog_factory.stock(store, mouse, 10)
    return SimpleNamespace(store=store, laptop=laptop, mouse=mouse)


@pytest.fixture
def place_order(shop):
    def place(*, laptops: int = 1, mice: int = 2, **kwargs):
        items = [OrderLine(shop.laptop.pk, laptops), OrderLine(shop.mouse.pk, mice)]
        return order_place(store_id=shop.store.pk, items=items, **kwargs).order

    return place


def use_broker(url: str) -> None:
    celery_app.conf["broker_url"] = url  # what conf.broker_url = url does
    # Celery caches connection and producer pools (kombu's global registry and the app's own
    # references); empty both so the next publish connects to the new URL.
    kombu.pools.reset()
    # No public API resets these caches, so the stubs do not declare them.
    celery_app._pool = None  # type: ignore[attr-defined]
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


@pytest.fixture
def private_broker(tmp_path):
    """Our own redis-server as the broker, so a test can stop "the broker" for real."""
    broker = RedisServer(tmp_path).start()
    previous = celery_app.conf.broker_url
    use_broker(broker.broker_url())
    yield broker
    broker.close()
    use_broker(previous)


class Published(list):
    """Names of the tasks published, in order; `etas` holds each one's ETA header (or None)."""

    def __init__(self) -> None:
        super().__init__()
        self.etas: list[str | None] = []


@pytest.fixture
def published() -> Iterator[Published]:
    """The tasks this process published to the broker, in order (eager runs aside)."""
    names = Published()

    def record(sender: str, headers: dict | None = None, **_) -> None:
        names.append(sender)
        names.etas.append((headers or {}).get("eta"))

    before_task_publish.connect(record, weak=False)
    yield names
    before_task_publish.disconnect(record)


class TaskRuns:
    """Counts tasks the embedded worker finished, closing its thread's database connection."""

    def __init__(self) -> None:
        self.count = 0
        self.done = threading.Condition()

    def __call__(self, **_) -> None:
        connection.close()  # the worker thread's connection, or the test database cannot drop
        with self.done:
            self.count += 1
            self.done.notify_all()

    def wait_for(self, count: int, timeout: float = 30) -> None:
        with self.done:
            assert self.done.wait_for(lambda: self.count >= count, timeout), "worker stalled"


@pytest.fixture
def run_worker(private_broker):
    """`with run_worker() as runs:` a Celery worker thread consuming the private broker;
    runs.wait_for(n) waits until it has finished n tasks in all."""
    runs = TaskRuns()

    @contextlib.contextmanager
    def run():
        with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
            yield runs

    task_postrun.connect(runs, weak=False)
    yield run
    task_postrun.disconnect(runs)
