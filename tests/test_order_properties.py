"""Property-based: random multi-item orders racing on small stock through the real order service
(one thread and database connection per order) never oversell, never half-fill, and confirm
exactly what the stock allows."""

import threading
from collections import Counter

import pytest
from django.core import mail
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storefront.inventory.models import Inventory
from storefront.orders.models import Order
from storefront.orders.selectors import order_detail
from storefront.orders.services import OrderLine, order_place

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# An order is 1-3 lines of (product index, quantity); indexes wrap around the products drawn.
ORDER = st.lists(st.tuples(st.integers(0, 3), st.integers(1, 4)), min_size=1, max_size=3)


def _race(store_id: int, orders: list[list[OrderLine]]) -> list[Order | BaseException]:
    results: list[Order | BaseException] = [None] * len(orders)  # type: ignore[list-item]
    start = threading.Barrier(len(orders))

    def place(index: int) -> None:
        try:
            start.wait()
            placement = order_place(
                store_id=store_id, items=orders[index], email=f"buyer{index}@example.com"
            )
            results[index] = placement.order
        except BaseException as exc:  # reported by the test, with the order that raised it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=place, args=(i,)) for i in range(len(orders))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    stock=st.lists(st.integers(0, 6), min_size=2, max_size=4),
    orders=st.lists(ORDER, min_size=2, max_size=10),
)
def test_racing_orders_account_for_every_unit(catalog_factory, celery_eager, stock, orders):
    mail.outbox = []
    store = catalog_factory.store()
    products = [catalog_factory.product(title=f"Item {n}") for n in range(len(stock))]
    for product, quantity in zip(products, stock, strict=True):
        catalog_factory.stock(store, product, quantity)
    wanted = [
        [OrderLine(product_id=products[i % len(products)].pk, quantity=q) for i, q in lines]
        for lines in orders
    ]

    results = _race(store.pk, wanted)

    errors = [result for result in results if isinstance(result, BaseException)]
    assert not errors, errors
    confirmed = Counter()
    for placed, lines in zip(results, wanted, strict=True):
        order = order_detail(order_id=placed.id)  # as stored, not as answered
        requested = Counter()
        for line in lines:
            requested[line.product_id] += line.quantity
        items = {item.product_id: item for item in order.lines}
        # All or nothing: every line is recorded with what was asked for.
        assert {pid: item.quantity for pid, item in items.items()} == dict(requested)
        if order.status == Order.Status.CONFIRMED:
            assert not any(item.shortfall for item in items.values())
            confirmed.update(requested)
        else:
            assert order.status == Order.Status.REJECTED
            assert any(item.shortfall for item in items.values())

    left = dict(Inventory.objects.filter(store=store).values_list("product_id", "quantity"))
    for product, start in zip(products, stock, strict=True):
        assert left[product.pk] >= 0
        assert left[product.pk] + confirmed[product.pk] == start
    # When the stock covers every order at once, nobody may be turned away.
    demand = Counter()
    for line in (line for lines in wanted for line in lines):
        demand[line.product_id] += line.quantity
    if all(demand[product.pk] <= start for product, start in zip(products, stock, strict=True)):
        assert all(order.status == Order.Status.CONFIRMED for order in results)
    n_confirmed = sum(order.status == Order.Status.CONFIRMED for order in results)
    assert sorted(m.subject for m in mail.outbox) == sorted(
        f"Order #{order.id} confirmed" for order in results if order.status == "CONFIRMED"
    )
    assert len(mail.outbox) == n_confirmed
