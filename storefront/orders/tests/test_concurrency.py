"""Real races: many threads, each on its own PostgreSQL connection, hitting the same rows."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from storefront.common.errors import ConflictError
from storefront.inventory.models import Inventory
from storefront.orders.models import Order
from storefront.orders.services import OrderLine, order_cancel, order_place
from storefront.orders.tests.concurrency import run_concurrently
from storefront.orders.tests.conftest import stock_of

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def test_fifty_buyers_for_the_last_units_exactly_that_many_win(shop):
    buyers, last_units = 50, 7
    Inventory.objects.filter(product=shop.laptop).update(quantity=last_units)

    results = run_concurrently(
        buyers,
        lambda _: (
            order_place(store_id=shop.store.pk, items=[OrderLine(shop.laptop.pk, 1)]).order.status
        ),
    )

    assert [r for r in results if isinstance(r, Exception)] == []
    assert results.count(Order.Status.CONFIRMED) == last_units
    assert results.count(Order.Status.REJECTED) == buyers - last_units
    assert stock_of(shop.store, shop.laptop) == 0
    assert not Inventory.objects.filter(quantity__lt=0).exists()


def test_opposite_line_orders_do_not_deadlock_and_stock_adds_up(shop):
    threads, rounds = 30, 3
    Inventory.objects.filter(store=shop.store).update(quantity=1000)

    def buy_both(index: int) -> list[str]:
        first, second = (shop.laptop, shop.mouse) if index % 2 else (shop.mouse, shop.laptop)
        lines = [OrderLine(first.pk, 2), OrderLine(second.pk, 1)]
        return [
            order_place(store_id=shop.store.pk, items=lines).order.status for _ in range(rounds)
        ]

    results = run_concurrently(threads, buy_both)

    assert [r for r in results if isinstance(r, Exception)] == []
    assert all(status == Order.Status.CONFIRMED for statuses in results for status in statuses)
    odd = threads // 2  # odd threads take 2 laptops and 1 mouse, even threads the reverse
    even = threads - odd
    assert stock_of(shop.store, shop.laptop) == 1000 - rounds * (2 * odd + even)
    assert stock_of(shop.store, shop.mouse) == 1000 - rounds * (odd + 2 * even)


def test_simultaneous_retries_with_one_idempotency_key_place_one_order(shop):
    key = str(uuid.uuid4())
    body = {"store": shop.store.pk, "items": [{"product_id": shop.laptop.pk, "quantity": 2}]}

    def post(_: int):
        response = APIClient().post("/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
        return response.status_code, response.json()["id"]

    results = run_concurrently(20, post)

    assert [r for r in results if isinstance(r, Exception)] == []
    assert {status for status, _ in results} == {201}
    assert len({order_id for _, order_id in results}) == 1
    assert Order.objects.count() == 1
    assert stock_of(shop.store, shop.laptop) == 3


def test_concurrent_cancels_restock_exactly_once(shop):
    manager = get_user_model().objects.create_superuser("root", password="pw")
    order = order_place(store_id=shop.store.pk, items=[OrderLine(shop.laptop.pk, 4)]).order
    assert stock_of(shop.store, shop.laptop) == 1

    results = run_concurrently(
        20, lambda _: order_cancel(order_id=order.id, cancelled_by=manager).status
    )

    assert results.count(Order.Status.CANCELLED) == 1
    assert all(isinstance(r, ConflictError) for r in results if r != Order.Status.CANCELLED)
    assert stock_of(shop.store, shop.laptop) == 5
