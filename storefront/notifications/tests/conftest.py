from types import SimpleNamespace

import kombu.pools
import pytest

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
    celery_app.conf.broker_url = url
    # Celery caches connection and producer pools (kombu's global registry and the app's own
    # references); empty both so the next publish connects to the new URL.
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def private_broker(tmp_path):
    """Our own redis-server as the broker, so a test can stop "the broker" for real."""
    broker = RedisServer(tmp_path).start()
    previous = celery_app.conf.broker_url
    use_broker(broker.url())
    yield broker
    broker.close()
    use_broker(previous)
