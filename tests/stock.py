"""Stock accounting checks shared by the race and fault tests (plain SQL on a live database)."""

from storefront.inventory.selectors import LEDGER_DRIFT_SQL


def set_stock(database, stock: dict[int, int], *, store_id: int = 1) -> None:
    """A store's stock of these products, counted through inventory (the ledger adds up)."""
    database.scalar(
        "SELECT count(*) FROM inventory_set(%s, %s::bigint[], %s::integer[], 'count', 'test', "
        "NULL, now())",
        (store_id, list(stock), list(stock.values())),
    )


def assert_ledger_adds_up(database) -> None:
    """inventory_audit's query: every stock row equals the sum of its movements."""
    assert database.rows(LEDGER_DRIFT_SQL, {"store": None, "products": None}) == []


def products_in_store_1(database, count: int) -> list[int]:
    rows = database.rows(
        "SELECT product_id FROM stores_inventory WHERE store_id = 1 ORDER BY product_id LIMIT %s",
        (count,),
    )
    return [row[0] for row in rows]


def assert_stock_accounted(database, initial: dict[int, int]) -> dict[str, int]:
    """Stock + confirmed units == initial for every product; every order has its lines."""
    orphans = database.scalar(
        "SELECT count(*) FROM orders_order o WHERE NOT EXISTS "
        "(SELECT 1 FROM orders_orderitem i WHERE i.order_id = o.id)"
    )
    assert orphans == 0
    assert database.scalar("SELECT count(*) FROM stores_inventory WHERE quantity < 0") == 0
    assert_ledger_adds_up(database)
    for product_id, quantity in initial.items():
        left = database.scalar(
            "SELECT quantity FROM stores_inventory WHERE store_id = 1 AND product_id = %s",
            (product_id,),
        )
        sold = database.scalar(
            "SELECT coalesce(sum(i.quantity), 0) FROM orders_orderitem i "
            "JOIN orders_order o ON o.id = i.order_id "
            "WHERE o.store_id = 1 AND o.status = 'CONFIRMED' AND i.product_id = %s",
            (product_id,),
        )
        assert left + sold == quantity, (product_id, left, sold, quantity)
    return dict(database.rows("SELECT status, count(*) FROM orders_order GROUP BY status"))
