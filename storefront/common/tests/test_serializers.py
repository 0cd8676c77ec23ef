"""The shared-instance path validates and renders exactly as a new serializer per call does."""

import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.exceptions import ValidationError

from storefront.common.serializers import rendered, validated
from storefront.orders.api import OrderOutputSerializer, OrderPlaceApi
from storefront.orders.selectors import OrderDetail, OrderLineDetail

LINE = {"product_id": 7, "quantity": 2}
BODIES: list[Any] = [
    {"store": 1, "items": [LINE]},
    {"store": 1, "items": [LINE, {"product_id": 9, "quantity": 1}], "email": "a@example.com"},
    {"store": 1, "items": [LINE], "email": ""},
    {"store": "1", "items": [LINE]},
    {"store": 1, "items": []},
    {"store": 1, "items": "laptop"},
    {"store": 1, "items": [LINE, "laptop", {"quantity": 1}, {"product_id": 1, "quantity": 0}]},
    {"store": 1, "items": [{"product_id": True, "quantity": 1.5}]},
    {"store": 1, "items": [LINE] * 101},
    {"store": 2**63, "items": [LINE], "email": "not an address"},
    {"items": [LINE]},
    {},
    [],
    "order",
    None,
]


def plain_validation(data: Any) -> tuple[str, Any]:
    serializer = OrderPlaceApi.InputSerializer(data=data)
    if serializer.is_valid():
        return "valid", serializer.validated_data
    return "invalid", serializer.errors


def shared_validation(data: Any) -> tuple[str, Any]:
    try:
        return "valid", validated(OrderPlaceApi.InputSerializer, data)
    except ValidationError as error:
        return "invalid", error.detail


@pytest.mark.parametrize("data", BODIES)
def test_validation_is_what_is_valid_gives(data):
    assert shared_validation(data) == plain_validation(data)


def order(status: str, lines: int) -> OrderDetail:
    return OrderDetail(
        id=41,
        store_id=1,
        status=status,
        email="a@example.com" if lines else "",
        placed_by_id=None,
        lines=[
            OrderLineDetail(
                product_id=n,
                title=f"Lamp {n}",
                quantity=n + 1,
                unit_price=Decimal("19.90"),
                shortfall=n if status == "REJECTED" else 0,
            )
            for n in range(lines)
        ],
        total_amount=Decimal("59.70"),
        created_at=datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=UTC),
        cancelled_at=datetime(2026, 12, 1, 13, 0, tzinfo=UTC) if status == "CANCELLED" else None,
    )


@pytest.mark.parametrize("status", ["CONFIRMED", "REJECTED", "CANCELLED"])
@pytest.mark.parametrize("lines", [0, 1, 3])
def test_rendering_is_what_data_gives(status, lines):
    detail = order(status, lines)
    assert rendered(OrderOutputSerializer, detail) == OrderOutputSerializer(detail).data


def test_threads_sharing_the_instance_get_their_own_answers():
    orders = [order("REJECTED", n % 4) for n in range(400)]
    expected = [OrderOutputSerializer(detail).data for detail in orders]
    results: list[Any] = [None] * len(orders)

    def render(start: int) -> None:
        for index in range(start, len(orders), 8):
            results[index] = rendered(OrderOutputSerializer, orders[index])

    threads = [threading.Thread(target=render, args=(start,)) for start in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == expected
