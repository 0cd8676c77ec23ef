"""Every change of a store's stock: placing (composed into orders_place), returning, setting.

The statements live in sql/stock.sql, where inventory_lock is the one place stock rows are
locked, always in ascending product id. Placing an order takes stock inside the orders app's
one-call placement (orders_place calls inventory_take), so that the rows stay locked only while
PostgreSQL works; everything else comes through the functions below.
"""

from collections.abc import Mapping

from django.db import connection, transaction
from django.utils import timezone

from storefront.inventory.models import Inventory


def stock_return(*, store_id: int, quantities: Mapping[int, int]) -> None:
    """Puts `quantities` ({product_id: units}) back on the store's shelf; a stock row deleted
    since comes back holding them. Joins the caller's transaction (an order's cancel)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT inventory_return(%s, %s::bigint[], %s::integer[], %s)",
            [store_id, list(quantities), list(quantities.values()), timezone.now()],
        )


def stock_set(*, store_id: int, product_id: int, quantity: int) -> Inventory:
    """Sets the store's stock of a product (an edit by staff), creating the row if needed.

    Takes the row lock first, so an edit never lands in the middle of an order's decision."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT FROM inventory_lock(%s, %s::bigint[])", [store_id, [product_id]])
        stock, _ = Inventory.objects.update_or_create(
            store_id=store_id, product_id=product_id, defaults={"quantity": quantity}
        )
    return stock
