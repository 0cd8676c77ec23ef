import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from storefront.inventory.models import Inventory
from storefront.inventory.services import stock_return, stock_set


@pytest.fixture
def shelf(catalog_factory):
    store = catalog_factory.store("Depot")
    laptop, mouse, cable = (catalog_factory.product(t) for t in ("Laptop", "Mouse", "Cable"))
    catalog_factory.stock(store, laptop, 5)
    catalog_factory.stock(store, mouse, 10)
    return store, laptop, mouse, cable


def quantities(store) -> dict[int, int]:
    return dict(Inventory.objects.filter(store=store).values_list("product_id", "quantity"))


def take(store, lines: dict[int, int], order_id: int = 1) -> list[tuple[int, int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM inventory_take(%s, %s::bigint[], %s::integer[], %s, NULL, %s)",
            [store.pk, list(lines), list(lines.values()), order_id, timezone.now()],
        )
        return cursor.fetchall()


@pytest.mark.django_db
def test_take_takes_every_line_when_all_are_available(shelf):
    store, laptop, mouse, _ = shelf
    assert take(store, {laptop.pk: 5, mouse.pk: 1}) == [(laptop.pk, 5, 5), (mouse.pk, 1, 10)]
    assert quantities(store) == {laptop.pk: 0, mouse.pk: 9}


@pytest.mark.django_db
def test_take_takes_nothing_when_one_line_is_short(shelf):
    store, laptop, mouse, cable = shelf
    answer = take(store, {laptop.pk: 1, mouse.pk: 11, cable.pk: 1})
    assert answer == [(laptop.pk, 1, 5), (mouse.pk, 11, 10), (cable.pk, 1, 0)]
    assert quantities(store) == {laptop.pk: 5, mouse.pk: 10}


@pytest.mark.django_db
def test_return_adds_to_the_rows_and_recreates_a_deleted_one(shelf):
    store, laptop, mouse, cable = shelf
    stock_return(
        store_id=store.pk, quantities={laptop.pk: 2, cable.pk: 3}, order_id=1, user_id=None
    )
    assert quantities(store) == {laptop.pk: 7, mouse.pk: 10, cable.pk: 3}
    assert Inventory.objects.get(store=store, product=cable).product_title_key == "cable"


@pytest.mark.django_db
def test_set_sets_or_creates_the_row(shelf):
    store, laptop, mouse, cable = shelf
    stock_set(store_id=store.pk, product_id=laptop.pk, quantity=42)
    created = stock_set(store_id=store.pk, product_id=cable.pk, quantity=1)
    assert quantities(store) == {laptop.pk: 42, mouse.pk: 10, cable.pk: 1}
    assert (created.movement.delta, created.movement.quantity_after) == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_set_waits_for_the_row_lock_of_an_order_in_progress(shelf):
    """An edit lands after the transaction holding the row, never in the middle of it."""
    store, laptop, *_ = shelf
    locked, edited = threading.Event(), threading.Event()

    def edit() -> None:
        locked.wait()
        stock_set(store_id=store.pk, product_id=laptop.pk, quantity=100)
        edited.set()
        connection.close()

    editor = threading.Thread(target=edit)
    editor.start()
    with transaction.atomic():
        take(store, {laptop.pk: 2})  # locks the row, as placing an order does
        locked.set()
        assert not edited.wait(0.5)  # the edit waits on our lock
    editor.join(10)
    assert edited.is_set()
    assert quantities(store)[laptop.pk] == 100
