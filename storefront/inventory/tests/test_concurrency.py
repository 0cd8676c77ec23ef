"""Real races in one process: threads, each on its own PostgreSQL connection, placing orders,
cancelling them, restocking, counting and syncing the same rows at once."""

import random

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from storefront.common.errors import ConflictError
from storefront.inventory.models import Inventory, StockMovement, StockReason
from storefront.inventory.selectors import ledger_drift
from storefront.inventory.services import (
    BulkMode,
    InsufficientStock,
    StockLine,
    stock_adjust,
    stock_bulk,
    stock_set,
)
from storefront.orders.models import Order
from storefront.orders.services import OrderLine, order_cancel, order_place
from storefront.orders.tests.concurrency import run_concurrently

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_every_kind_of_stock_change_at_once_keeps_the_ledger_exact(catalog_factory):
    store = catalog_factory.store("Depot")
    products = [catalog_factory.product(f"Item {n}") for n in range(3)]
    ids = [product.pk for product in products]
    for product in products:
        catalog_factory.stock(store, product, 20)
    clerk = get_user_model().objects.create_superuser("clerk")
    placed = [
        order_place(store_id=store.pk, items=[OrderLine(ids[0], 1), OrderLine(ids[1], 1)]).order.id
        for _ in range(5)
    ]

    def work(index: int) -> str:
        rng = random.Random(index)
        kind = index % 6
        if kind in {0, 1}:  # buyers, lines in either order
            lines = [OrderLine(pid, rng.randint(1, 3)) for pid in rng.sample(ids, 2)]
            return order_place(store_id=store.pk, items=lines).order.status
        if kind == 2:
            stock_adjust(
                store_id=store.pk, product_id=rng.choice(ids), delta=rng.randint(1, 4),
                reason=StockReason.RESTOCK, user=clerk,
            )  # fmt: skip
            return "restocked"
        if kind == 3:
            stock_set(
                store_id=store.pk, product_id=rng.choice(ids), quantity=rng.randint(0, 20),
                user=clerk,
            )  # fmt: skip
            return "counted"
        if kind == 4:
            mode = rng.choice(list(BulkMode))
            values = [rng.randint(0, 10) if mode == BulkMode.SET else -1 for _ in ids]
            reason = StockReason.COUNT if mode == BulkMode.SET else StockReason.DAMAGE
            bulk = [StockLine(pid, value) for pid, value in zip(ids, values, strict=True)]
            try:
                stock_bulk(store_id=store.pk, mode=mode, reason=reason, lines=bulk, user=clerk)
            except InsufficientStock:
                return "short"
            return "synced"
        try:
            order_cancel(order_id=placed[index % len(placed)], cancelled_by=clerk)
        except ConflictError:
            return "already cancelled"
        return "cancelled"

    results = run_concurrently(36, work)

    assert [r for r in results if isinstance(r, Exception)] == [], results
    assert not any(isinstance(r, OperationalError) for r in results)  # no deadlock
    assert results.count("cancelled") == len(placed)
    assert ledger_drift() == []
    assert not Inventory.objects.filter(quantity__lt=0).exists()
    for order in Order.objects.prefetch_related("items"):
        for item in order.items.all():
            moved = StockMovement.objects.filter(order_id=order.id, product_id=item.product_id)
            expected = {
                "REJECTED": [],
                "CONFIRMED": [("order", -item.quantity)],
                "CANCELLED": [("order", -item.quantity), ("cancel", item.quantity)],
            }[order.status]
            assert list(moved.order_by("id").values_list("reason", "delta")) == expected


def test_simultaneous_retries_with_one_idempotency_key_write_one_movement(catalog_factory):
    store = catalog_factory.store("Depot")
    product = catalog_factory.product("Kettle")
    catalog_factory.stock(store, product, 5)
    clerk = get_user_model().objects.create_superuser("clerk")
    client_token = Token.objects.create(user=clerk).key
    body = {"product_id": product.pk, "delta": 3, "reason": "restock"}

    def post(_: int) -> tuple[int, int]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {client_token}")
        response = client.post(
            f"/stores/{store.pk}/inventory/adjustments/",
            body,
            format="json",
            HTTP_IDEMPOTENCY_KEY="delivery-1",
        )
        return response.status_code, response.json()["id"]

    results = run_concurrently(20, post)

    assert [r for r in results if isinstance(r, Exception)] == []
    assert {status for status, _ in results} == {201}
    assert len({movement for _, movement in results}) == 1
    assert Inventory.objects.get(store=store, product=product).quantity == 8
    assert ledger_drift() == []


def test_bulk_syncs_with_lines_in_opposite_orders_queue_instead_of_deadlocking(catalog_factory):
    store = catalog_factory.store("Depot")
    ids = [catalog_factory.product(f"Item {n}").pk for n in range(20)]
    clerk = get_user_model().objects.create_superuser("clerk")

    def sync(index: int) -> int:
        order = ids if index % 2 else ids[::-1]
        mode = BulkMode.SET if index % 3 else BulkMode.ADJUST
        reason = StockReason.COUNT if mode == BulkMode.SET else StockReason.RESTOCK
        lines = [StockLine(pid, index + 1) for pid in order]
        return stock_bulk(
            store_id=store.pk, mode=mode, reason=reason, lines=lines, user=clerk
        ).lines

    results = run_concurrently(24, sync)

    assert results == [len(ids)] * 24  # no exception, deadlocks included
    assert StockMovement.objects.filter(store=store).count() == 24 * len(ids)
    assert ledger_drift() == []
