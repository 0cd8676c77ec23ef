from django.db import connection
from django.db.models import QuerySet

from storefront.inventory.models import Inventory


def inventory_list(*, store_id: int) -> QuerySet[Inventory]:
    """The store's stock, alphabetical by product title (id breaks ties).

    Case-insensitive, so "mouse" sorts before "Zebra" whatever the database collation: the
    order is lower(title), kept on each stock row as `product_title_key` and indexed with the
    store, so a page is read off the index instead of sorting the store's whole stock.
    Archived products are left out (their rows stay, for the stock they still account for).
    """
    return (
        Inventory.objects.filter(store_id=store_id, product__archived_at__isnull=True)
        .select_related("product__category")
        .order_by("product_title_key", "product_id")
    )


def store_quantities(*, store_id: int, product_ids: list[int]) -> dict[int, int] | None:
    """Each product's quantity in the store (absent when the store holds none), or None when the
    store does not exist: one query answers both, for callers that skip validating the store.

    Plain SQL because it runs on every cached search hit, where building the equivalent ORM
    query (a FilteredRelation join) cost more CPU than the rest of the request.
    """
    placeholders = ", ".join(["%s"] * len(product_ids)) or "NULL"
    sql = (
        "SELECT i.product_id, i.quantity FROM stores_store s "
        "LEFT JOIN stores_inventory i "
        f"ON i.store_id = s.id AND i.product_id IN ({placeholders}) "
        "WHERE s.id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*product_ids, store_id])
        rows = cursor.fetchall()
    if not rows:
        return None
    return {product_id: quantity for product_id, quantity in rows if product_id is not None}
