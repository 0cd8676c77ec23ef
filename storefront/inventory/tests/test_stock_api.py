"""The staff stock endpoints: adjustments, counts, bulk syncs and the movement listing."""

import json
import time
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from storefront.catalog.models import Product
from storefront.inventory.models import Inventory, StockMovement
from storefront.inventory.selectors import ledger_drift

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(catalog_factory):
    store = catalog_factory.store("Main Street")
    laptop, mouse, cable = (catalog_factory.product(t) for t in ("Laptop", "Mouse", "Cable"))
    catalog_factory.stock(store, laptop, 5)
    catalog_factory.stock(store, mouse, 10)
    clerk = get_user_model().objects.create_user("clerk")
    store.staff.add(clerk)
    other = get_user_model().objects.create_user("other-clerk")
    catalog_factory.store("Elsewhere").staff.add(other)
    return store, laptop, mouse, cable, clerk, other


def client_of(user) -> APIClient:
    client = APIClient()
    client.default_format = "json"
    if user is not None:
        token = Token.objects.get_or_create(user=user)[0].key
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def quantity(store, product) -> int | None:
    row = Inventory.objects.filter(store=store, product=product).first()
    return None if row is None else row.quantity


def writes(store, product) -> list[tuple[str, str, dict]]:
    """Every staff write of a product's stock, as (method, path, body)."""
    base = f"/stores/{store.pk}/inventory"
    return [
        (
            "post",
            f"{base}/adjustments/",
            {"product_id": product.pk, "delta": 1, "reason": "restock"},
        ),
        ("put", f"{base}/{product.pk}/", {"quantity": 1}),
        (
            "post",
            f"{base}/bulk/",
            {
                "mode": "set",
                "reason": "count",
                "lines": [{"product_id": product.pk, "quantity": 1}],
            },
        ),
    ]


def test_a_restock_answers_its_movement(shop):
    store, laptop, _, _, clerk, _ = shop
    response = client_of(clerk).post(
        f"/stores/{store.pk}/inventory/adjustments/",
        {"product_id": laptop.pk, "delta": 25, "reason": "restock", "reference": "PO-1234"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {
        "id": body["id"],
        "store": store.pk,
        "product_id": laptop.pk,
        "delta": 25,
        "quantity_after": 30,
        "reason": "restock",
        "reference": "PO-1234",
        "order_id": None,
        "created_by": clerk.pk,
        "created_at": body["created_at"],
    }
    assert quantity(store, laptop) == 30


def test_taking_more_than_the_stock_is_a_409_with_the_available_quantity(shop):
    store, laptop, _, _, clerk, _ = shop
    response = client_of(clerk).post(
        f"/stores/{store.pk}/inventory/adjustments/",
        {"product_id": laptop.pk, "delta": -6, "reason": "damage"},
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["code"], error["fields"]) == (
        "insufficient_stock",
        {"product_id": laptop.pk, "available": 5},
    )
    assert quantity(store, laptop) == 5


def test_an_unknown_product_is_a_400_and_a_new_one_gets_a_row(shop):
    store, _, _, cable, clerk, _ = shop
    client = client_of(clerk)
    unknown = client.post(
        f"/stores/{store.pk}/inventory/adjustments/",
        {"product_id": 999_999, "delta": 1, "reason": "restock"},
    )
    counted = client.put(f"/stores/{store.pk}/inventory/999999/", {"quantity": 1})
    created = client.put(f"/stores/{store.pk}/inventory/{cable.pk}/", {"quantity": 4})

    assert unknown.status_code == counted.status_code == 400
    assert unknown.json()["error"]["fields"] == {"product_id": ["Product 999999 does not exist."]}
    assert created.status_code == 200, created.content
    assert (created.json()["delta"], created.json()["reason"]) == (4, "count")
    assert quantity(store, cable) == 4


def test_a_count_computes_its_delta_and_records_no_change_too(shop):
    store, laptop, _, _, clerk, _ = shop
    client = client_of(clerk)
    first = client.put(f"/stores/{store.pk}/inventory/{laptop.pk}/", {"quantity": 100})
    again = client.put(
        f"/stores/{store.pk}/inventory/{laptop.pk}/", {"quantity": 100, "reason": "count"}
    )
    assert (first.status_code, again.status_code) == (200, 200)
    assert (first.json()["delta"], first.json()["quantity_after"]) == (95, 100)
    assert (again.json()["delta"], again.json()["quantity_after"]) == (0, 100)


def test_a_bulk_sync_is_all_or_nothing(shop):
    store, laptop, mouse, cable, clerk, _ = shop
    client = client_of(clerk)
    url = f"/stores/{store.pk}/inventory/bulk/"
    applied = client.post(
        url,
        {
            "mode": "set",
            "reason": "count",
            "lines": [
                {"product_id": laptop.pk, "quantity": 5},
                {"product_id": mouse.pk, "quantity": 2},
                {"product_id": cable.pk, "quantity": 9},
            ],
        },
    )
    refused = client.post(
        url,
        {
            "mode": "adjust",
            "reason": "damage",
            "lines": [
                {"product_id": laptop.pk, "delta": -1},
                {"product_id": mouse.pk, "delta": -3},
            ],
        },
    )
    invalid = client.post(
        url,
        {
            "mode": "adjust",
            "reason": "restock",
            "lines": [{"product_id": laptop.pk, "quantity": 1}],
        },
    )
    wrong_reason = client.post(
        url,
        {"mode": "set", "reason": "restock", "lines": [{"product_id": laptop.pk, "quantity": 1}]},
    )

    assert (applied.status_code, applied.json()) == (200, {"mode": "set", "lines": 3, "changed": 2})
    assert refused.status_code == 409
    assert refused.json()["error"]["fields"] == {
        "lines": {"1": {"product_id": mouse.pk, "available": 2}}
    }
    assert invalid.status_code == 400
    assert invalid.json()["error"]["fields"] == {
        "lines": {"0": {"delta": ["Mode adjust takes a delta on every line."]}}
    }
    assert list(wrong_reason.json()["error"]["fields"]) == ["reason"]
    both = client.post(
        url,
        {"mode": "set", "reason": "count",
         "lines": [{"product_id": laptop.pk, "quantity": 1, "delta": 1}]},
    )  # fmt: skip
    assert both.json()["error"]["fields"] == {
        "lines": {"0": {"delta": ["Mode set takes no delta."]}}
    }
    assert [quantity(store, p) for p in (laptop, mouse, cable)] == [5, 2, 9]
    assert ledger_drift() == []


def test_a_bulk_takes_ten_thousand_lines_and_no_more(shop, settings):
    store, laptop, _, _, clerk, _ = shop
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2**20
    lines = [{"product_id": laptop.pk, "quantity": 1}] * 10_001
    response = client_of(clerk).post(
        f"/stores/{store.pk}/inventory/bulk/", {"mode": "set", "reason": "count", "lines": lines}
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["lines"]


def test_the_movements_of_a_row_newest_first_in_cursor_pages(shop):
    store, laptop, _, _, clerk, _ = shop
    client = client_of(clerk)
    for counted in (1, 2, 3):
        client.put(f"/stores/{store.pk}/inventory/{laptop.pk}/", {"quantity": counted})

    first = client.get(f"/stores/{store.pk}/inventory/{laptop.pk}/movements/?page_size=2")
    second = client.get(first.json()["next"])

    assert first.status_code == 200
    seen = [row["quantity_after"] for row in first.json()["results"] + second.json()["results"]]
    assert seen == [3, 2, 1, 5]
    assert second.json()["results"][-1]["reason"] == "initial"
    assert second.json()["next"] is None


def test_only_the_stores_staff_or_a_superuser_may_write_or_read_the_ledger(shop):
    store, laptop, _, _, clerk, other = shop
    root = get_user_model().objects.create_superuser("root")
    movements = f"/stores/{store.pk}/inventory/{laptop.pk}/movements/"
    for method, path, body in writes(store, laptop):
        assert getattr(client_of(None), method)(path, body).status_code == 401, path
        refused = getattr(client_of(other), method)(path, body)
        assert refused.status_code == 403, path
        assert refused.json()["error"]["code"] == "permission_denied"
        assert getattr(client_of(root), method)(path, body).status_code in {200, 201}, path
    assert client_of(None).get(movements).status_code == 401
    assert client_of(other).get(movements).status_code == 403
    assert client_of(clerk).get(movements).status_code == 200
    assert StockMovement.objects.filter(created_by=other).count() == 0


def test_an_unknown_store_is_a_404(shop):
    *_, clerk, _ = shop
    response = client_of(clerk).post(
        "/stores/987654/inventory/adjustments/",
        {"product_id": 1, "delta": 1, "reason": "restock"},
    )
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Store 987654 does not exist."


def test_every_write_replays_with_its_idempotency_key(shop):
    store, laptop, *_, clerk, _ = shop
    client = client_of(clerk)
    for method, path, body in writes(store, laptop):
        first = getattr(client, method)(path, body, HTTP_IDEMPOTENCY_KEY=f"key-{path}")
        again = getattr(client, method)(path, body, HTTP_IDEMPOTENCY_KEY=f"key-{path}")
        other_body = {**body, "reference": "another"}
        reused = getattr(client, method)(path, other_body, HTTP_IDEMPOTENCY_KEY=f"key-{path}")
        assert first.status_code in {200, 201}, first.content
        assert (again.status_code, again.json()) == (first.status_code, first.json())
        assert again.headers["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first.headers
        assert reused.status_code == 409
    # Each write applied once: restock +1, then count 1, then bulk set 1 (no change).
    assert quantity(store, laptop) == 1
    assert StockMovement.objects.filter(product=laptop).count() == 4


def test_a_bulk_of_ten_thousand_lines_is_applied_at_once(shop, catalog_factory):
    store, *_, clerk, _ = shop
    category = catalog_factory.category()
    products = Product.objects.bulk_create(
        Product(title=f"Bulk {n}", price=Decimal("1.00"), category=category) for n in range(10_000)
    )
    lines = [{"product_id": product.pk, "quantity": n % 7} for n, product in enumerate(products)]
    started = time.perf_counter()
    response = client_of(clerk).post(
        f"/stores/{store.pk}/inventory/bulk/", {"mode": "set", "reason": "count", "lines": lines}
    )
    elapsed = time.perf_counter() - started

    assert response.status_code == 200, response.content[:500]
    assert response.json() == {"mode": "set", "lines": 10_000, "changed": 10_000 - 10_000 // 7 - 1}
    assert StockMovement.objects.filter(reference="", reason="count").count() == 10_000
    assert ledger_drift(store_id=store.pk) == []
    print(f"\n10,000-line bulk set: {elapsed:.2f} s")


HUGE = 10**30  # far past any bigint id


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("put", "/stores/{store}/inventory/{huge}/", {"quantity": 1}, 400),
        ("get", "/stores/{store}/inventory/{huge}/movements/", None, 200),
        ("post", "/stores/{huge}/inventory/adjustments/", {}, 404),
        ("put", "/stores/{huge}/inventory/1/", {"quantity": 1}, 404),
        ("get", "/stores/{huge}/inventory/1/movements/", None, 404),
        ("post", "/stores/{store}/inventory/adjustments/",
         {"product_id": HUGE, "delta": 1, "reason": "restock"}, 400),
        ("post", "/stores/{store}/inventory/adjustments/",
         {"product_id": 1, "delta": HUGE, "reason": "restock"}, 400),
        ("put", "/stores/{store}/inventory/1/", {"quantity": -1}, 400),
        ("put", "/stores/{store}/inventory/1/", {"quantity": "5"}, 400),
        ("post", "/stores/{store}/inventory/bulk/",
         {"mode": "set", "reason": "count", "lines": []}, 400),
        ("post", "/stores/{store}/inventory/bulk/",
         {"mode": "move", "reason": "count", "lines": [{"product_id": 1, "quantity": 1}]}, 400),
        ("post", "/stores/{store}/inventory/bulk/", [], 400),
    ],
)  # fmt: skip
def test_bad_ids_and_bodies_are_4xx_never_5xx(shop, method, path, body, status):
    store = shop[0]
    superuser = get_user_model().objects.create_superuser("root")
    url = path.format(store=store.pk, huge=HUGE)
    response = getattr(client_of(superuser), method)(url, body)
    assert response.status_code == status, response.content
    assert "error" in response.json() or status == 200


@pytest.mark.parametrize(
    "line",
    [
        {"product_id": "1", "quantity": 1},
        {"product_id": 1, "quantity": True},
        {"product_id": 1, "quantity": 1.0},
        {"product_id": 0, "quantity": 1},
        {"product_id": 1, "quantity": -1},
        {"product_id": 1, "quantity": 2**31},
        {"quantity": 1},
        {"product_id": 1, "quantity": 1, "note": "x"},
        [1, 1],
        None,
    ],
)
def test_a_bulk_line_is_checked_as_its_serializer_checks_it(shop, line):
    from storefront.inventory.api import BulkLineInputSerializer, StockBulkApi

    store, laptop, mouse, _, clerk, _ = shop
    good = {"product_id": laptop.pk, "quantity": 1}
    if isinstance(line, dict) and line.get("product_id") == 1:
        line = {**line, "product_id": mouse.pk}  # an existing product
    body = {"mode": "set", "reason": "count", "lines": [good, line]}
    response = client_of(clerk).post(f"/stores/{store.pk}/inventory/bulk/", body)
    plain = StockBulkApi.InputSerializer(data=body)
    plain.fields["lines"] = serializers.ListField(child=BulkLineInputSerializer())
    if plain.is_valid():
        assert response.status_code == 200, response.content
    else:
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == json.loads(json.dumps(plain.errors))
