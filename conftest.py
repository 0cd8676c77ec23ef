import contextlib

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from config.celery_app import app as celery_app


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache: no cached search or rate-limit count leaks in."""
    # A test that stops Redis on purpose must still be able to start.
    with contextlib.suppress(Exception):
        cache.clear()
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
    from storefront.inventory.models import Inventory
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
            return Inventory.objects.update_or_create(
                store=store, product=product, defaults={"quantity": quantity}
            )[0]

    return Factory()
