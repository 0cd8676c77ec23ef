import contextlib

import pytest
import redis
from django.conf import settings
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from config.celery_app import app as celery_app
from tests.live import RedisServer


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(settings, "REDIS_KEY_NAMESPACE"):
        raise pytest.UsageError(
            "The suite runs with DJANGO_SETTINGS_MODULE=tests.settings (pyproject.toml), which "
            "keeps its Redis keys apart; unset DJANGO_SETTINGS_MODULE."
        )


def delete_session_keys() -> None:
    """Deletes every Redis key of this test session (tests/settings.py), and no other: never a
    FLUSHDB, the database may hold other data."""
    client = get_redis_connection()
    keys = list(client.scan_iter(match=f"{settings.REDIS_KEY_NAMESPACE}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(scope="session", autouse=True)
def _no_session_keys_left():
    """The session leaves nothing in Redis, not even the tasks the last test published."""
    yield
    with contextlib.suppress(redis.RedisError):
        delete_session_keys()


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with none of the session's Redis keys: no cached search, rate-limit
    count, email dispatch key or queued task leaks in."""
    # A test that stops Redis on purpose must still be able to start.
    with contextlib.suppress(redis.RedisError):
        delete_session_keys()
    yield


@pytest.fixture
def celery_eager():
    """Tasks run in the publishing thread as soon as they are published (after commit, for
    on_commit), with no broker: for tests of what a task does, not of the transport."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def catalog_factory(db):
    """Builds stores, products and stock rows with readable defaults."""
    from decimal import Decimal

    from storefront.catalog.models import Category, Product
    from storefront.inventory.models import Inventory, StockReason
    from storefront.inventory.services import stock_set
    from storefront.stores.models import Store

    class Factory:
        def category(self, name: str = "Electronics") -> Category:
            return Category.objects.get_or_create(name=name)[0]

        def store(self, name: str | None = None) -> Store:
            return Store.objects.create(name=name or f"Store {Store.objects.count() + 1}")

        def product(
            self,
            title: str = "Pro Laptop",
            price: str = "10.00",
            category: str = "Electronics",
            description: str = "",
        ) -> Product:
            return Product.objects.create(
                title=title,
                price=Decimal(price),
                category=self.category(category),
                description=description,
            )

        def stock(self, store: Store, product: Product, quantity: int) -> Inventory:
            """Through inventory, as every stock writer: the row's ledger adds up."""
            stock_set(
                store_id=store.pk,
                product_id=product.pk,
                quantity=quantity,
                reason=StockReason.INITIAL,
            )
            return Inventory.objects.get(store=store, product=product)

    return Factory()


@pytest.fixture
def private_redis(settings, tmp_path):
    """A throwaway redis-server that the test may stop; the system Redis is never touched."""
    server = RedisServer(tmp_path).start()
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": server.url(),
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    yield server
    server.close()
