from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from storefront.common.errors import ConflictError
from storefront.inventory.models import Inventory
from storefront.notifications.models import OrderEmail
from storefront.orders.models import IdempotencyKey, Order, OrderItem
from storefront.orders.services import OrderLine, OrderNotFound, order_cancel, order_place
from storefront.orders.tests.conftest import stock_of

pytestmark = pytest.mark.django_db


def place(shop, *lines, **kwargs):
    items = [OrderLine(product_id=product.pk, quantity=quantity) for product, quantity in lines]
    return order_place(store_id=shop.store.pk, items=items, **kwargs)


def test_order_in_stock_is_confirmed_and_takes_the_stock(shop):
    order = place(shop, (shop.laptop, 2), (shop.mouse, 3)).order

    assert order.status == Order.Status.CONFIRMED
    assert stock_of(shop.store, shop.laptop) == 3
    assert stock_of(shop.store, shop.mouse) == 7
    items = {item.product_id: item for item in order.lines}
    assert items[shop.laptop.pk].unit_price == Decimal("999.99")
    assert items[shop.mouse.pk].quantity == 3
    assert order.total_amount == Decimal("2058.48")
    assert Order.objects.get(pk=order.id).total_items == 5
    assert order.shortfalls == []
    assert OrderEmail.objects.filter(order_id=order.id, status=OrderEmail.Status.PENDING).exists()


def test_order_for_exactly_the_last_units_is_confirmed(shop):
    assert place(shop, (shop.laptop, 5)).order.status == Order.Status.CONFIRMED
    assert stock_of(shop.store, shop.laptop) == 0


def test_order_beyond_stock_is_rejected_and_stored_without_touching_stock(shop):
    order = place(shop, (shop.laptop, 6)).order

    assert order.status == Order.Status.REJECTED
    assert stock_of(shop.store, shop.laptop) == 5
    [item] = order.lines
    assert (item.quantity, item.available, item.shortfall) == (6, 5, 1)
    assert not OrderEmail.objects.exists()


def test_one_short_line_rejects_the_whole_order_with_no_partial_deduction(shop):
    order = place(shop, (shop.laptop, 1), (shop.mouse, 11)).order

    assert order.status == Order.Status.REJECTED
    assert stock_of(shop.store, shop.laptop) == 5
    assert stock_of(shop.store, shop.mouse) == 10
    shortfalls = {item.product_id: item.shortfall for item in order.lines}
    assert shortfalls == {shop.laptop.pk: 0, shop.mouse.pk: 1}
    assert [item.product_id for item in order.shortfalls] == [shop.mouse.pk]


def test_product_the_store_does_not_carry_is_rejected_with_nothing_available(shop):
    order = place(shop, (shop.cable, 1)).order

    assert order.status == Order.Status.REJECTED
    [item] = order.shortfalls
    assert (item.product_id, item.available, item.shortfall) == (shop.cable.pk, 0, 1)
    assert not Inventory.objects.filter(product=shop.cable).exists()


def test_duplicate_product_lines_are_merged_and_checked_against_their_sum(shop):
    rejected = place(shop, (shop.laptop, 3), (shop.laptop, 3)).order
    assert rejected.status == Order.Status.REJECTED
    [item] = rejected.lines
    assert (item.quantity, item.shortfall) == (6, 1)

    confirmed = place(shop, (shop.laptop, 2), (shop.laptop, 3)).order
    assert confirmed.status == Order.Status.CONFIRMED
    assert [(i.product_id, i.quantity) for i in confirmed.lines] == [(shop.laptop.pk, 5)]
    assert stock_of(shop.store, shop.laptop) == 0


def test_unknown_store_raises_not_found_and_writes_nothing(shop):
    with pytest.raises(NotFound):
        order_place(store_id=shop.store.pk + 1000, items=[OrderLine(shop.laptop.pk, 1)])
    assert not Order.objects.exists()


def test_unknown_product_raises_a_field_error_and_writes_nothing(shop):
    unknown = OrderLine(product_id=shop.cable.pk + 1000, quantity=1)
    with pytest.raises(ValidationError) as raised:
        order_place(
            store_id=shop.store.pk,
            items=[OrderLine(shop.laptop.pk, 1), unknown],
            idempotency_key="k1",
        )
    detail: Any = raised.value.detail  # items' errors are keyed by index, the stubs allow str keys
    assert "product_id" in detail["items"][1]
    assert not Order.objects.exists()
    assert not IdempotencyKey.objects.exists()
    assert stock_of(shop.store, shop.laptop) == 5


def test_placement_is_planned_once_per_connection(shop):
    """orders_place and inventory_take run with a generic plan: with custom plans PostgreSQL
    planned the placement again for every order, half of its CPU per order."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proname, proconfig FROM pg_proc "
            "WHERE proname IN ('orders_place', 'inventory_take') ORDER BY proname"
        )
        assert cursor.fetchall() == [
            ("inventory_take", ["plan_cache_mode=force_generic_plan"]),
            ("orders_place", ["plan_cache_mode=force_generic_plan"]),
        ]


@pytest.mark.parametrize("items", [[], [OrderLine(1, 0)], [OrderLine(1, -2)]])
def test_empty_or_non_positive_lines_are_refused(shop, items):
    with pytest.raises(ValidationError):
        order_place(store_id=shop.store.pk, items=items)
    assert not Order.objects.exists()


def test_same_idempotency_key_and_body_returns_the_first_order(shop):
    first = place(shop, (shop.laptop, 1), idempotency_key="abc")
    again = place(shop, (shop.laptop, 1), idempotency_key="abc")

    assert (first.replayed, again.replayed) == (False, True)
    assert again.order.id == first.order.id
    assert Order.objects.count() == 1
    assert stock_of(shop.store, shop.laptop) == 4
    assert IdempotencyKey.objects.get(key="abc").order_id == first.order.id


def test_same_idempotency_key_with_another_body_is_a_conflict(shop):
    place(shop, (shop.laptop, 1), idempotency_key="abc")
    with pytest.raises(ConflictError):
        place(shop, (shop.laptop, 2), idempotency_key="abc")
    assert Order.objects.count() == 1
    assert stock_of(shop.store, shop.laptop) == 4


def test_rejected_order_is_replayed_too(shop):
    first = place(shop, (shop.laptop, 50), idempotency_key="big")
    assert place(shop, (shop.laptop, 50), idempotency_key="big").order.id == first.order.id


@pytest.fixture
def manager(shop):
    user = get_user_model().objects.create_user("manager", password="pw")
    shop.store.staff.add(user)
    return user


def test_cancel_returns_the_stock_once(shop, manager):
    order = place(shop, (shop.laptop, 2), (shop.mouse, 1)).order

    cancelled = order_cancel(order_id=order.id, cancelled_by=manager)

    assert cancelled.status == Order.Status.CANCELLED
    assert cancelled.cancelled_at is not None
    assert stock_of(shop.store, shop.laptop) == 5
    assert stock_of(shop.store, shop.mouse) == 10
    with pytest.raises(ConflictError):
        order_cancel(order_id=order.id, cancelled_by=manager)
    assert stock_of(shop.store, shop.laptop) == 5


def test_cancel_recreates_a_stock_row_deleted_since(shop, manager):
    order = place(shop, (shop.laptop, 2)).order
    Inventory.objects.filter(product=shop.laptop).delete()

    order_cancel(order_id=order.id, cancelled_by=manager)

    assert stock_of(shop.store, shop.laptop) == 2


def test_rejected_order_cannot_be_cancelled(shop, manager):
    order = place(shop, (shop.laptop, 50)).order
    with pytest.raises(ConflictError):
        order_cancel(order_id=order.id, cancelled_by=manager)
    assert stock_of(shop.store, shop.laptop) == 5


def test_only_staff_of_the_store_or_a_superuser_may_cancel(shop, catalog_factory):
    users = get_user_model().objects
    stranger = users.create_user("stranger", password="pw")
    other_store = catalog_factory.store("Elsewhere")
    other_store.staff.add(stranger)
    customer = users.create_user("customer", password="pw")
    order = place(shop, (shop.laptop, 1), placed_by=customer).order

    with pytest.raises(OrderNotFound):  # another store's staff may not even see it
        order_cancel(order_id=order.id, cancelled_by=stranger)
    with pytest.raises(PermissionDenied):  # its customer sees it, but may not cancel it
        order_cancel(order_id=order.id, cancelled_by=customer)
    root = users.create_superuser("root", password="pw")
    assert order_cancel(order_id=order.id, cancelled_by=root).status == Order.Status.CANCELLED


def test_cancel_of_an_unknown_order_is_not_found(manager):
    with pytest.raises(OrderNotFound):
        order_cancel(order_id=424242, cancelled_by=manager)


def test_items_keep_the_price_at_ordering_time(shop):
    order = place(shop, (shop.mouse, 1)).order
    shop.mouse.price = Decimal("99.00")
    shop.mouse.save()
    assert OrderItem.objects.get(order_id=order.id).unit_price == Decimal("19.50")


def test_a_free_product_is_known_when_another_line_is_not(shop, catalog_factory):
    gift = catalog_factory.product("Gift wrap", "0.00")
    unknown = OrderLine(product_id=shop.cable.pk + 1000, quantity=1)
    with pytest.raises(ValidationError) as raised:
        order_place(store_id=shop.store.pk, items=[OrderLine(gift.pk, 1), unknown])
    detail: Any = raised.value.detail  # keyed by line index, which the stubs cannot say
    assert list(detail["items"]) == [1]  # the unknown line only
