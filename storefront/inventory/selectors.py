from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import QuerySet

from storefront.inventory.models import Inventory, StockMovement


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


def products_in_stock(*, product_ids: list[int]) -> set[int]:
    """Which of these products some store has in stock, on the primary (stock is never read on
    a replica: storefront.common.replicas)."""
    in_stock = Inventory.objects.using(DEFAULT_DB_ALIAS).filter(
        product_id__in=product_ids, quantity__gt=0
    )
    return set(in_stock.values_list("product_id", flat=True).distinct())


def with_live_quantities(*, store_id: int, rows: list[Inventory]) -> list[Inventory]:
    """`rows` with each quantity as the primary has it now: stock figures are exact at commit
    wherever a page was read (rows read on a replica may be behind; on the primary they are
    live already)."""
    from_replica = [row for row in rows if row._state.db != DEFAULT_DB_ALIAS]
    if from_replica:
        ids = [row.product_id for row in from_replica]
        live = store_quantities(store_id=store_id, product_ids=ids) or {}
        for row in from_replica:
            row.quantity = live.get(row.product_id, 0)
    return rows


def movement_list(*, store_id: int, product_id: int) -> QuerySet[StockMovement]:
    """The ledger of one stock row, newest first: by id, which follows the row's changes
    (ids are drawn under the row lock), read off stockmovement_row_newest_idx."""
    return StockMovement.objects.filter(store_id=store_id, product_id=product_id).order_by("-id")


@dataclass(frozen=True)
class Drift:
    """A (store, product) whose ledger does not add up to its stock row."""

    store_id: int
    product_id: int
    quantity: int  # the row's (0 when there is none)
    ledger_total: int  # the sum of its movements' deltas
    last_quantity_after: int | None  # what its newest movement left (None: no movement)


# One pass over each table: the row's quantity against the sum of its movements and against
# the quantity its newest movement left. A full join, so a row without movements and
# movements without a row both show. %(store)s and %(products)s narrow it (NULL: all).
LEDGER_DRIFT_SQL = """
    WITH stock AS (
        SELECT store_id, product_id, quantity FROM stores_inventory
        WHERE (%(store)s::bigint IS NULL OR store_id = %(store)s)
          AND (%(products)s::bigint[] IS NULL OR product_id = ANY (%(products)s))
    ), ledger AS (
        SELECT store_id, product_id, sum(delta) AS total,
               (array_agg(quantity_after ORDER BY id DESC))[1] AS last_after
        FROM inventory_stockmovement
        WHERE (%(store)s::bigint IS NULL OR store_id = %(store)s)
          AND (%(products)s::bigint[] IS NULL OR product_id = ANY (%(products)s))
        GROUP BY store_id, product_id
    )
    SELECT coalesce(i.store_id, m.store_id), coalesce(i.product_id, m.product_id),
           coalesce(i.quantity, 0), coalesce(m.total, 0), m.last_after
    FROM stock i
    FULL JOIN ledger m ON m.store_id = i.store_id AND m.product_id = i.product_id
    WHERE coalesce(i.quantity, 0) <> coalesce(m.total, 0)
       OR coalesce(i.quantity, 0) <> coalesce(m.last_after, 0)
    ORDER BY 1, 2
"""


def ledger_drift(
    *, store_id: int | None = None, product_ids: list[int] | None = None
) -> list[Drift]:
    """Every (store, product) whose stock differs from what its movements add up to (or from
    what the newest one left), of one store and some products if given: empty when the
    ledger's invariant holds. One set-based query."""
    with connection.cursor() as cursor:
        cursor.execute(LEDGER_DRIFT_SQL, {"store": store_id, "products": product_ids})
        return [Drift(*row) for row in cursor.fetchall()]
