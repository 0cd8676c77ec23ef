from types import SimpleNamespace

import pytest

from storefront.inventory.models import Inventory


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
