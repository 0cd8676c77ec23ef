"""An order placed by ONE PostgreSQL statement, run in autocommit (see docs/orders.md).

The statement is its own transaction: it checks the store and products, claims the
Idempotency-Key, locks the store's stock rows in ascending product id order (the locking
protocol of storefront.orders.services), decides all or nothing, and writes the order with its
totals, the items (with shortfalls), the stock decrements and the confirmation-email outbox row.
The rows therefore stay locked only while PostgreSQL itself works, never across a client round
trip: the hot-SKU benchmark measured the multi-statement transaction at a fraction of this.

Why the data-modifying CTEs are safe here:
- `locked` is a SELECT ... ORDER BY ... FOR UPDATE: its LockRows step runs above the sort, so
  the rows are locked in product id order, and under READ COMMITTED a row updated by a buyer we
  waited for is returned in its newest version. `decision` aggregates over all of `locked`, and
  every write joins `decision`, so no row is written before every lock is held.
- `taken` decrements relatively. It scans with the statement's snapshot; for a row another
  buyer changed meanwhile, PostgreSQL re-evaluates the UPDATE on the newest version
  (EvalPlanQual), which this statement already holds locked.
- `claim` inserts the Idempotency-Key with ON CONFLICT DO NOTHING: a concurrent statement with
  the same key waits on the unique index until the first commits (then writes nothing and the
  caller replays) or rolls back (then it places the order itself).
- Nothing is written unless the store and every product exist; the result says which was
  missing. Unreferenced data-modifying CTEs still run to completion (PostgreSQL guarantees it).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection

_CLAIM_WITHOUT_KEY = """
claim AS (
    SELECT nextval(pg_get_serial_sequence('orders_order', 'id')) AS order_id
    FROM checks WHERE store_found AND products_found
)"""

_CLAIM_WITH_KEY = """
claim AS (
    INSERT INTO orders_idempotencykey (key, fingerprint, order_id, created_at)
    SELECT %(key)s, %(fingerprint)s, nextval(pg_get_serial_sequence('orders_order', 'id')),
           %(now)s
    FROM checks WHERE store_found AND products_found
    ON CONFLICT (key) DO NOTHING
    RETURNING order_id
)"""

_STATEMENT = """
WITH wanted AS (
    SELECT w.product_id, w.quantity, p.title, p.price
    FROM unnest(%(products)s::bigint[], %(quantities)s::integer[]) AS w (product_id, quantity)
    LEFT JOIN catalog_product p ON p.id = w.product_id
),
checks AS (
    SELECT EXISTS (SELECT 1 FROM stores_store WHERE id = %(store)s) AS store_found,
           bool_and(price IS NOT NULL) AS products_found,
           sum(quantity) AS total_items,
           sum(quantity * price) AS total_amount
    FROM wanted
),
{claim},
locked AS (
    SELECT i.product_id, i.quantity
    FROM stores_inventory i
    WHERE i.store_id = %(store)s AND i.product_id = ANY (%(products)s::bigint[])
      AND EXISTS (SELECT 1 FROM claim)
    ORDER BY i.product_id
    FOR UPDATE
),
lines AS (
    SELECT w.product_id, w.quantity, w.title, w.price, COALESCE(l.quantity, 0) AS available
    FROM wanted w LEFT JOIN locked l USING (product_id)
),
decision AS (
    SELECT c.order_id, bool_and(l.available >= l.quantity) AS confirmed
    FROM claim c CROSS JOIN lines l
    GROUP BY c.order_id
),
new_order AS (
    INSERT INTO orders_order
        (id, store_id, status, email, placed_by_id, created_at, total_items, total_amount)
    SELECT d.order_id, %(store)s,
           CASE WHEN d.confirmed THEN 'CONFIRMED' ELSE 'REJECTED' END,
           %(email)s, %(placed_by)s, %(now)s, k.total_items, k.total_amount
    FROM decision d CROSS JOIN checks k
),
items AS (
    INSERT INTO orders_orderitem (order_id, product_id, quantity, unit_price, shortfall)
    SELECT d.order_id, l.product_id, l.quantity, l.price,
           CASE WHEN d.confirmed THEN 0 ELSE GREATEST(l.quantity - l.available, 0) END
    FROM decision d CROSS JOIN lines l
),
taken AS (
    UPDATE stores_inventory i
    SET quantity = i.quantity - l.quantity, updated_at = %(now)s
    FROM decision d CROSS JOIN lines l
    WHERE d.confirmed AND i.store_id = %(store)s AND i.product_id = l.product_id
),
outbox AS (
    INSERT INTO notifications_orderemail
        (order_id, status, recipient, attempts, last_error, created_at, updated_at)
    SELECT d.order_id, 'PENDING', '', 0, '', %(now)s, %(now)s
    FROM decision d WHERE d.confirmed
)
SELECT k.store_found, d.order_id, d.confirmed,
       l.product_id, l.title, l.price, l.quantity, l.available
FROM checks k
LEFT JOIN decision d ON true
LEFT JOIN lines l ON true
ORDER BY l.product_id
"""

STATEMENT_WITHOUT_KEY = _STATEMENT.format(claim=_CLAIM_WITHOUT_KEY)
STATEMENT_WITH_KEY = _STATEMENT.format(claim=_CLAIM_WITH_KEY)


@dataclass(frozen=True)
class PlacedLine:
    product_id: int
    title: str | None  # None: no such product
    unit_price: Decimal | None
    quantity: int
    available: int


@dataclass(frozen=True)
class StatementResult:
    store_found: bool
    # None when nothing was written: unknown store or product, or the key was already claimed.
    order_id: int | None
    confirmed: bool
    lines: list[PlacedLine]  # ascending product id


def order_place_statement(
    *,
    store_id: int,
    wanted: dict[int, int],
    email: str,
    placed_by_id: int | None,
    now: datetime,
    idempotency: tuple[str, str] | None,
) -> StatementResult:
    """Runs the statement for `wanted` ({product_id: quantity}); `idempotency` is (key,
    fingerprint). Must run in autocommit: the statement is the whole transaction."""
    if not _outside_atomic_blocks():
        raise RuntimeError("order_place_statement() commits by itself; call it outside atomic().")
    key, fingerprint = idempotency or (None, None)
    params = {
        "store": store_id,
        "products": list(wanted),
        "quantities": list(wanted.values()),
        "email": email,
        "placed_by": placed_by_id,
        "now": now,
        "key": key,
        "fingerprint": fingerprint,
    }
    statement = STATEMENT_WITH_KEY if idempotency else STATEMENT_WITHOUT_KEY
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    store_found, order_id, confirmed = rows[0][:3]
    return StatementResult(
        store_found=store_found,
        order_id=order_id,
        confirmed=bool(confirmed),
        lines=[PlacedLine(*row[3:]) for row in rows if row[3] is not None],
    )


def _outside_atomic_blocks() -> bool:
    """The rule of atomic(durable=True): no enclosing atomic block, except the ones a TestCase
    (or pytest-django's `db` fixture) wraps each test in, which Django marks for this check."""
    return all(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)
