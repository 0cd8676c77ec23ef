"""An order placed by ONE PostgreSQL statement, run in autocommit (see docs/orders.md).

The statement is the body of the PL/pgSQL function `orders_place` (created by migration
0004_orders_place_function, which explains why it is a function); this module calls it.

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
- `claim` draws the order id from the order sequence; with an Idempotency-Key, `claimed_key`
  first inserts the key with ON CONFLICT DO NOTHING: a concurrent statement with the same key
  waits on the unique index until the first commits (then writes nothing and the caller
  replays) or rolls back (then it places the order itself).
- Nothing is written unless the store and every product exist; the result says which was
  missing. Unreferenced data-modifying CTEs still run to completion (PostgreSQL guarantees it).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection

# The statement lives in the database as a function (migration 0004_orders_place_function),
# which PostgreSQL plans once per connection instead of once per order.
_CALL = (
    "SELECT * FROM orders_place(%(store)s::bigint, %(products)s::bigint[], "
    "%(quantities)s::integer[], %(email)s::text, %(placed_by)s::integer, "
    "%(now)s::timestamptz, %(key)s::text, %(fingerprint)s::text)"
)


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
    with connection.cursor() as cursor:
        cursor.execute(_CALL, params)
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
