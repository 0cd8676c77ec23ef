import socket
import subprocess
import time
from types import SimpleNamespace

import kombu.pools
import pytest
import redis

from config.celery_app import app as celery_app
from storefront.orders.services import OrderLine, order_place


@pytest.fixture
def celery_eager():
    """Tasks run in-process as soon as they are published (after commit, for on_commit)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


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


class PrivateRedis:
    """A redis-server of our own on a free port, so a test can stop "the broker" for real."""

    def __init__(self, workdir) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def use_broker(url: str) -> None:
    celery_app.conf.broker_url = url
    # Celery caches connection and producer pools (kombu's global registry and the app's own
    # references); empty both so the next publish connects to the new URL.
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def private_broker(tmp_path):
    broker = PrivateRedis(tmp_path)
    broker.start()
    previous = celery_app.conf.broker_url
    use_broker(broker.url)
    yield broker
    broker.stop()
    use_broker(previous)
