import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(catalog_factory):
    store = catalog_factory.store("Main Street")
    for title, price, category, quantity in [
        ("mouse", "19.50", "Accessories", 10),
        ("Zebra Case", "5.00", "Accessories", 0),
        ("Laptop", "999.99", "Electronics", 3),
        ("Laptop", "899.00", "Electronics", 7),
    ]:
        product = catalog_factory.product(title, price, category=category)
        catalog_factory.stock(store, product, quantity)
    elsewhere = catalog_factory.store("Elsewhere")
    catalog_factory.stock(elsewhere, catalog_factory.product("Abacus"), 1)
    return store


def test_inventory_is_public_and_sorted_by_title_then_id(api_client, store):
    response = api_client.get(f"/stores/{store.pk}/inventory/")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(row["title"], row["quantity"]) for row in rows] == [
        ("Laptop", 3),
        ("Laptop", 7),
        ("mouse", 10),  # case-insensitive: before "Zebra" whatever the collation
        ("Zebra Case", 0),
    ]
    assert rows[0]["product_id"] < rows[1]["product_id"]
    assert rows[0] == {
        "product_id": rows[0]["product_id"],
        "title": "Laptop",
        "price": "999.99",
        "category": "Electronics",
        "quantity": 3,
    }


def test_unknown_store_is_404(api_client, store):
    response = api_client.get("/stores/987654/inventory/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "params",
    [{"cursor": "zzz"}, {"page_size": "-1"}, {"page_size": "abc"}, {"page_size": ""}],
)
def test_invalid_paging_parameters_are_400(api_client, store, params):
    response = api_client.get(f"/stores/{store.pk}/inventory/", params)
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == set(params)


def test_number_of_queries_does_not_grow_with_the_page(api_client, store, catalog_factory):
    for index in range(20):
        catalog_factory.stock(store, catalog_factory.product(f"Item {index:02}"), index)
    counts = {}
    for page_size in (1, 20):
        with CaptureQueriesContext(connection) as queries:
            api_client.get(f"/stores/{store.pk}/inventory/", {"page_size": page_size})
        counts[page_size] = len(queries)
    assert counts[1] == counts[20] <= 2  # store exists, page
