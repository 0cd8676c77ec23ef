from types import SimpleNamespace

import pytest
from django.conf import settings

from storefront.orders import services
from storefront.stores.models import Inventory


@pytest.fixture
def shop(catalog_factory):
    """One store carrying a laptop (5 in stock) and a mouse (10); a cable it does not carry."""
    store = catalog_factory.store("Main Street")
    laptop = catalog_factory.product("Laptop", "999.99")
    mouse = catalog_factory.product("Mouse", "19.50", category="Accessories")
    cable = catalog_factory.product("Cable", "5.00", category="Accessories")
    catalog_factory.stock(store, laptop, 5)
    catalog_factory.stock(store, mouse, 10)
    return SimpleNamespace(store=store, laptop=laptop, mouse=mouse, cable=cable)


def stock_of(store, product) -> int:
    return Inventory.objects.get(store=store, product=product).quantity


@pytest.fixture
def api_client(api_client):
    """The project's client, sending JSON bodies like real clients of this API."""
    api_client.default_format = "json"
    return api_client


@pytest.fixture(params=["one-statement", "transaction"])
def placement(request, monkeypatch) -> str:
    """Runs a test once per way order_place can place an order: PostgreSQL's one statement,
    and the ORM transaction that other databases use (forced here on PostgreSQL too)."""
    if request.param == "one-statement" and not settings.IS_POSTGRES:
        pytest.skip("the one-statement placement is PostgreSQL's")
    if request.param == "transaction":
        monkeypatch.setattr(services, "_one_statement_supported", lambda: False)
    return request.param
