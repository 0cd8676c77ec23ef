import pytest


@pytest.fixture
def search_catalog(catalog_factory):
    """A small catalog whose titles exercise every ranking tier for q="pro"."""
    f = catalog_factory
    products = {
        "exact": f.product("Pro", price="50.00"),
        "prefix": f.product("Pro Laptop", price="900.00"),
        "word": f.product("Ultra Pro Mouse", price="25.00"),
        "inside": f.product("Improved Kettle", price="40.00", category="Home"),  # no match
        "description": f.product(
            "Blender", price="60.00", category="Home", description="For PRO chefs"
        ),
        "other": f.product("Garden Hose", price="15.00", category="Garden"),
    }
    return products
