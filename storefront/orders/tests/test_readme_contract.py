"""The examples of the seed README (the API contract), replayed against the default seed."""

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from storefront.inventory.models import Inventory


@pytest.fixture
def seeded(db):
    call_command("seed_data", "--reset", "--no-progress")  # --reset: ids start at 1 again


def stock_589() -> int:
    return Inventory.objects.get(store_id=1, product_id=589).quantity


def test_documented_order_is_confirmed_and_deducts_stock(seeded, api_client):
    before = stock_589()

    response = api_client.post(
        "/orders/", {"store": 1, "items": [{"product_id": 589, "quantity": 1}]}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["status"] == "CONFIRMED"
    assert stock_589() == before - 1


def test_documented_oversized_order_is_rejected_and_stock_unchanged(seeded, api_client):
    before = stock_589()

    response = api_client.post(
        "/orders/",
        {"store": 1, "items": [{"product_id": 589, "quantity": 1_000_000}]},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "REJECTED"
    assert body["shortfalls"] == [
        {"product_id": 589, "requested": 1_000_000, "available": before,
         "missing": 1_000_000 - before}
    ]  # fmt: skip
    assert stock_589() == before


@pytest.mark.parametrize(
    "query",
    [
        "q=Pro",
        "min_price=10&max_price=100",
        "category=Electronics",
        "q=Pro&store_id=1",
        "store_id=1&in_stock=true",
    ],
)
def test_documented_searches_find_products(seeded, api_client, query):
    response = api_client.get(f"/api/search/products/?{query}")

    assert response.status_code == 200
    results = response.json()["results"]
    assert results
    assert all(("store_quantity" in row) == ("store_id" in query) for row in results)


def test_documented_suggest_and_listings(seeded, api_client):
    assert api_client.get("/api/search/suggest/?q=Pro").json()["results"]
    inventory = api_client.get("/stores/1/inventory/").json()["results"]
    titles = [row["title"] for row in inventory]
    assert titles == sorted(titles, key=str.upper)

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get().key}")
    api_client.post("/orders/", {"store": 1, "items": [{"product_id": 589, "quantity": 1}]})
    api_client.post("/orders/", {"store": 1, "items": [{"product_id": 590, "quantity": 1}]})
    orders = api_client.get("/stores/1/orders/").json()["results"]
    assert [row["id"] for row in orders] == sorted((row["id"] for row in orders), reverse=True)
    assert len(orders) == 2
