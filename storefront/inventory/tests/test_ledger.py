"""The ledger: every stock change writes its movement, whoever makes it, and the movements of
each row add up to its quantity (ledger_drift, inventory_audit)."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from rest_framework.exceptions import ValidationError

from storefront.common import idempotency
from storefront.common.models import IdempotentRequest
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
from storefront.orders.services import OrderLine, order_cancel, order_place

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(catalog_factory):
    store = catalog_factory.store("Depot")
    laptop, mouse, cable = (catalog_factory.product(t) for t in ("Laptop", "Mouse", "Cable"))
    catalog_factory.stock(store, laptop, 5)
    catalog_factory.stock(store, mouse, 10)
    clerk = get_user_model().objects.create_user("clerk")
    store.staff.add(clerk)
    return store, laptop, mouse, cable, clerk


def movements(store, product) -> list[tuple]:
    rows = StockMovement.objects.filter(store=store, product=product).order_by("id")
    return list(rows.values_list("reason", "delta", "quantity_after", "order_id"))


def quantity(store, product) -> int | None:
    row = Inventory.objects.filter(store=store, product=product).first()
    return None if row is None else row.quantity


def test_an_order_and_its_cancel_write_one_movement_per_line(shelf):
    store, laptop, mouse, _, clerk = shelf
    buyer = get_user_model().objects.create_user("buyer")
    lines = [OrderLine(laptop.pk, 2), OrderLine(mouse.pk, 3)]
    order = order_place(store_id=store.pk, items=lines, placed_by=buyer).order
    order_cancel(order_id=order.id, cancelled_by=clerk)

    assert movements(store, laptop) == [
        ("initial", 5, 5, None),
        ("order", -2, 3, order.id),
        ("cancel", 2, 5, order.id),
    ]
    assert movements(store, mouse)[1:] == [("order", -3, 7, order.id), ("cancel", 3, 10, order.id)]
    by_reason = dict(
        StockMovement.objects.filter(order_id=order.id).values_list("reason", "created_by")
    )
    assert by_reason == {"order": buyer.pk, "cancel": clerk.pk}
    assert ledger_drift() == []


def test_a_rejected_order_writes_no_movement(shelf):
    store, laptop, _, cable, _ = shelf
    order_place(store_id=store.pk, items=[OrderLine(laptop.pk, 1), OrderLine(cable.pk, 1)])
    assert movements(store, laptop) == [("initial", 5, 5, None)]
    assert not StockMovement.objects.filter(reason="order").exists()


def test_a_restock_of_a_product_never_carried_creates_its_row(shelf):
    store, _, _, cable, clerk = shelf
    write = stock_adjust(
        store_id=store.pk,
        product_id=cable.pk,
        delta=25,
        reason=StockReason.RESTOCK,
        reference="PO-1234",
        user=clerk,
    )
    movement = write.movement
    assert (movement.delta, movement.quantity_after, movement.reference) == (25, 25, "PO-1234")
    assert (movement.created_by_id, movement.order_id, write.replayed) == (clerk.pk, None, False)
    assert quantity(store, cable) == 25
    assert ledger_drift() == []


def test_taking_more_than_the_stock_is_refused_with_what_is_there_and_writes_nothing(shelf):
    store, laptop, _, cable, clerk = shelf
    with pytest.raises(InsufficientStock) as refused:
        stock_adjust(
            store_id=store.pk, product_id=laptop.pk, delta=-6, reason=StockReason.DAMAGE, user=clerk
        )
    assert refused.value.fields == {"product_id": laptop.pk, "available": 5}
    with pytest.raises(InsufficientStock):  # a row it would have created is not left behind
        stock_adjust(
            store_id=store.pk, product_id=cable.pk, delta=-1, reason=StockReason.DAMAGE, user=clerk
        )
    assert quantity(store, laptop) == 5
    assert quantity(store, cable) is None
    assert StockMovement.objects.count() == 2  # the two initial ones


@pytest.mark.parametrize(
    ("reason", "delta"),
    [
        (StockReason.RESTOCK, -1),
        (StockReason.RETURN, -1),
        (StockReason.DAMAGE, 1),
        (StockReason.CORRECTION, 0),
    ],
)
def test_a_delta_of_the_wrong_sign_for_its_reason_is_invalid(shelf, reason, delta):
    store, laptop, _, _, clerk = shelf
    with pytest.raises(ValidationError) as invalid:
        stock_adjust(
            store_id=store.pk, product_id=laptop.pk, delta=delta, reason=reason, user=clerk
        )
    assert list(invalid.value.detail) == ["delta"]


def test_a_count_is_recorded_even_when_it_changes_nothing(shelf):
    store, laptop, _, _, clerk = shelf
    stock_set(store_id=store.pk, product_id=laptop.pk, quantity=3, user=clerk)
    changed_at = Inventory.objects.get(store=store, product=laptop).updated_at
    stock_set(store_id=store.pk, product_id=laptop.pk, quantity=3, user=clerk)
    assert movements(store, laptop)[1:] == [("count", -2, 3, None), ("count", 0, 3, None)]
    # The row itself is not written again: it keeps the time of its last change.
    assert Inventory.objects.get(store=store, product=laptop).updated_at == changed_at
    assert ledger_drift() == []


def test_a_bulk_set_and_adjust_write_one_movement_per_line(shelf):
    store, laptop, mouse, cable, clerk = shelf
    lines = [StockLine(laptop.pk, 5), StockLine(mouse.pk, 0), StockLine(cable.pk, 7)]
    synced = stock_bulk(
        store_id=store.pk, mode=BulkMode.SET, reason=StockReason.COUNT, lines=lines, user=clerk
    )
    restocked = stock_bulk(
        store_id=store.pk,
        mode=BulkMode.ADJUST,
        reason=StockReason.RESTOCK,
        lines=[StockLine(mouse.pk, 4), StockLine(cable.pk, 1)],
        user=clerk,
    )
    assert (synced.lines, synced.changed, restocked.changed) == (3, 2, 2)
    assert movements(store, laptop)[1:] == [("count", 0, 5, None)]
    assert movements(store, mouse)[1:] == [("count", -10, 0, None), ("restock", 4, 4, None)]
    assert movements(store, cable) == [("count", 7, 7, None), ("restock", 1, 8, None)]
    assert ledger_drift() == []


def test_a_bulk_adjust_is_all_or_nothing_and_names_the_short_lines(shelf):
    store, laptop, mouse, cable, clerk = shelf
    lines = [StockLine(laptop.pk, -5), StockLine(mouse.pk, -11), StockLine(cable.pk, -1)]
    with pytest.raises(InsufficientStock) as refused:
        stock_bulk(
            store_id=store.pk,
            mode=BulkMode.ADJUST,
            reason=StockReason.DAMAGE,
            lines=lines,
            user=clerk,
        )
    assert refused.value.fields == {
        "lines": {
            "1": {"product_id": mouse.pk, "available": 10},
            "2": {"product_id": cable.pk, "available": 0},
        }
    }
    assert (quantity(store, laptop), quantity(store, mouse), quantity(store, cable)) == (
        5,
        10,
        None,
    )
    assert StockMovement.objects.count() == 2


def test_a_bulk_names_unknown_and_repeated_products(shelf):
    store, laptop, _, _, clerk = shelf
    lines = [StockLine(laptop.pk, 1), StockLine(999_999, 1), StockLine(laptop.pk, 2)]
    with pytest.raises(ValidationError) as invalid:
        stock_bulk(
            store_id=store.pk, mode=BulkMode.SET, reason=StockReason.COUNT, lines=lines, user=clerk
        )
    assert invalid.value.detail == {
        "lines": {
            "1": {"product_id": ["Product 999999 does not exist."]},
            "2": {"product_id": [f"Product {laptop.pk} is on line 0."]},
        }
    }
    assert StockMovement.objects.count() == 2


def test_an_idempotency_key_replays_the_first_write(shelf):
    store, laptop, _, _, clerk = shelf
    write = {"store_id": store.pk, "product_id": laptop.pk, "reason": "restock", "user": clerk}
    first = stock_adjust(**write, delta=3, idempotency_key="k")
    again = stock_adjust(**write, delta=3, idempotency_key="k")
    with pytest.raises(idempotency.KeyReused):
        stock_adjust(**write, delta=4, idempotency_key="k")

    assert (again.replayed, again.movement.pk) == (True, first.movement.pk)
    assert quantity(store, laptop) == 8
    assert IdempotentRequest.objects.get().result == {
        "movements": [first.movement.pk],
        "changed": 1,
    }


def test_a_refused_write_keeps_no_key_so_it_can_be_retried(shelf):
    store, laptop, _, _, clerk = shelf
    write = {"store_id": store.pk, "product_id": laptop.pk, "reason": "damage", "user": clerk}
    with pytest.raises(InsufficientStock):
        stock_adjust(**write, delta=-6, idempotency_key="k")
    assert not IdempotentRequest.objects.exists()
    assert stock_adjust(**write, delta=-5, idempotency_key="k").movement.quantity_after == 0


def test_an_edit_in_the_admin_is_an_admin_movement(admin_client, shelf):
    store, laptop, *_ = shelf
    row = Inventory.objects.get(store=store, product=laptop)
    response = admin_client.post(f"/admin/inventory/inventory/{row.pk}/change/", {"quantity": "12"})
    assert response.status_code == 302, response.content
    [admin_edit] = StockMovement.objects.filter(reason="admin")
    assert (admin_edit.delta, admin_edit.quantity_after) == (7, 12)
    assert admin_edit.created_by is not None and admin_edit.created_by.username == "admin"
    assert ledger_drift() == []


def test_the_audit_passes_and_names_a_row_changed_behind_the_ledgers_back(shelf, capsys):
    store, _laptop, mouse, *_ = shelf
    call_command("inventory_audit")
    assert "Ledger OK" in capsys.readouterr().out

    with connection.cursor() as cursor:  # what no code path of the app may do
        cursor.execute(
            "UPDATE stores_inventory SET quantity = 9 WHERE store_id = %s AND product_id = %s",
            [store.pk, mouse.pk],
        )
    with pytest.raises(CommandError, match="1 stock row"):
        call_command("inventory_audit")
    assert capsys.readouterr().out.splitlines()[1] == f"{store.pk}\t{mouse.pk}\t9\t10\t10"


def test_the_ledger_opens_with_one_initial_movement_per_seeded_row(db):
    from storefront.seeding.services import SeedPlan, catalog_seed

    catalog_seed(plan=SeedPlan(stores=3, products=50, inventory_per_store=20, seed=1), progress=int)
    rows = Inventory.objects.count()
    assert StockMovement.objects.filter(reason="initial", reference="seed_data").count() == rows
    assert ledger_drift() == []


def test_old_keys_are_purged_and_a_retry_then_writes_again(shelf):
    from datetime import timedelta

    from storefront.common.tasks import purge_idempotent_requests

    store, laptop, _, _, clerk = shelf
    write = {"store_id": store.pk, "product_id": laptop.pk, "reason": StockReason.RESTOCK}
    stock_adjust(**write, delta=1, user=clerk, idempotency_key="old")
    IdempotentRequest.objects.update(
        created_at=IdempotentRequest.objects.get().created_at - timedelta(days=2)
    )
    stock_adjust(**write, delta=1, user=clerk, idempotency_key="recent")

    assert purge_idempotent_requests() == 1
    assert not stock_adjust(**write, delta=1, user=clerk, idempotency_key="old").replayed
    assert quantity(store, laptop) == 8


@pytest.mark.parametrize("query", ["", "abc", "589", "PO-1"])
def test_the_ledger_in_the_admin_is_read_only_and_searchable(admin_client, shelf, query):
    response = admin_client.get("/admin/inventory/stockmovement/", {"q": query})
    assert response.status_code == 200
    movement = StockMovement.objects.first()
    assert movement is not None
    change = admin_client.post(f"/admin/inventory/stockmovement/{movement.pk}/change/", {})
    assert change.status_code == 403
