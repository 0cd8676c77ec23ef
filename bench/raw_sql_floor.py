"""Raw-SQL floor for orders: the order's transaction straight through psycopg, no Django.

    python bench/raw_sql_floor.py --database-url URL --store 2 --orders orders.json --concurrency 16

Each order is one transaction: BEGIN; a conditional decrement per line in product id order
(UPDATE ... WHERE quantity >= wanted RETURNING the quantity left), the order row with its
totals (total_items, total_amount, as order_place stores them), its item rows and, for a
confirmed order, each line's stock movement (the ledger row order_place writes: delta, the
quantity left, reason `order`, the order's id, in one INSERT) and the confirmation-email
outbox row; COMMIT. A line that cannot be served rolls back and the order is written as
REJECTED (items with their shortfall, no outbox row, no movement) in its own transaction.
These are the rows the API writes; the orchestrator marks the outbox rows SKIPPED afterwards,
as nobody will send them. Prints one JSON line: counts, duration, latency percentiles.
"""

import argparse
import json
import statistics
import threading
import time
from decimal import Decimal

import psycopg

DECREMENT = (
    "UPDATE stores_inventory SET quantity = quantity - %s, updated_at = now() "
    "WHERE store_id = %s AND product_id = %s AND quantity >= %s RETURNING quantity"
)
INSERT_ORDER = (
    "INSERT INTO orders_order (store_id, status, email, created_at, total_items, total_amount) "
    "VALUES (%s, %s, %s, now(), %s, %s) RETURNING id"
)
INSERT_ITEM = (
    "INSERT INTO orders_orderitem (order_id, product_id, quantity, unit_price, shortfall) "
    "VALUES (%s, %s, %s, %s, %s)"
)
INSERT_MOVEMENTS = (
    "INSERT INTO inventory_stockmovement (store_id, product_id, delta, quantity_after, reason, "
    "order_id, reference, created_at) "
    "SELECT %s, m.product_id, m.delta, m.quantity_after, 'order', %s, '', now() "
    "FROM unnest(%s::bigint[], %s::integer[], %s::integer[]) "
    "AS m (product_id, delta, quantity_after)"
)
INSERT_OUTBOX = (
    "INSERT INTO notifications_orderemail "
    "(order_id, status, recipient, attempts, last_error, created_at, updated_at) "
    "VALUES (%s, 'PENDING', '', 0, '', now(), now())"
)
# Every NOT NULL column of the tables the API writes per order, but the identity: this script
# must fill them all, so that a column the app starts writing cannot silently take a default
# here (total_items and total_amount have database defaults of 0).
FILLED = {
    "orders_order": {"store_id", "status", "email", "created_at", "total_items", "total_amount"},
    "orders_orderitem": {"order_id", "product_id", "quantity", "unit_price", "shortfall"},
    "notifications_orderemail": {
        "order_id", "status", "recipient", "attempts", "last_error", "created_at", "updated_at",
    },
    "inventory_stockmovement": {
        "store_id", "product_id", "delta", "quantity_after", "reason", "reference", "created_at",
    },
}  # fmt: skip


class Rejected(Exception):
    def __init__(self, product_id: int) -> None:
        self.product_id = product_id


def check_schema(conn: psycopg.Connection) -> None:
    """Fails loudly on a NOT NULL column this floor does not write, with a default or not."""
    for table, filled in FILLED.items():
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "AND is_nullable = 'NO' AND is_identity = 'NO' "
            "AND coalesce(column_default, '') NOT LIKE 'nextval(%%'",
            [table],
        ).fetchall()
        missing = {name for (name,) in rows} - filled
        if missing:
            raise SystemExit(f"{table} has NOT NULL columns this floor does not fill: {missing}")


def place(conn: psycopg.Connection, *, store: int, lines: list[tuple[int, int]], prices, email):
    lines = sorted(lines)
    try:
        with conn.transaction(), conn.cursor() as cur:
            left = []
            for product_id, quantity in lines:
                cur.execute(DECREMENT, [quantity, store, product_id, quantity])
                row = cur.fetchone()
                if row is None:
                    raise Rejected(product_id)
                left.append(row[0])
            order_id = write_order(
                cur, store=store, lines=lines, prices=prices, email=email, short=None
            )
            cur.execute(
                INSERT_MOVEMENTS,
                [store, order_id, [p for p, _ in lines], [-q for _, q in lines], left],
            )
        return True
    except Rejected as rejected:
        with conn.transaction(), conn.cursor() as cur:
            write_order(
                cur, store=store, lines=lines, prices=prices, email=email, short=rejected.product_id
            )
        return False


def write_order(cur, *, store, lines, prices, email, short: int | None) -> int:
    status = "CONFIRMED" if short is None else "REJECTED"
    total_items = sum(q for _, q in lines)
    total_amount = sum((q * prices[p] for p, q in lines), Decimal("0.00"))
    cur.execute(INSERT_ORDER, [store, status, email, total_items, total_amount])
    (order_id,) = cur.fetchone()
    cur.executemany(
        INSERT_ITEM,
        [(order_id, p, q, prices[p], q if p == short else 0) for p, q in lines],
    )
    if short is None:
        cur.execute(INSERT_OUTBOX, [order_id])
    return order_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--store", type=int, required=True)
    parser.add_argument("--orders", required=True, help="JSON list of [[product_id, qty], ...]")
    parser.add_argument("--concurrency", type=int, required=True)
    args = parser.parse_args()

    with open(args.orders) as f:
        orders = [[tuple(line) for line in order] for order in json.load(f)]
    product_ids = sorted({p for order in orders for p, _ in order})
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        check_schema(conn)
        prices: dict[int, Decimal] = dict(
            conn.execute(
                "SELECT id, price FROM catalog_product WHERE id = ANY(%s)", [product_ids]
            ).fetchall()
        )

    connections = [
        psycopg.connect(args.database_url, autocommit=True) for _ in range(args.concurrency)
    ]
    next_order = iter(range(len(orders)))
    lock = threading.Lock()
    latencies: list[float] = []
    outcomes = {"confirmed": 0, "rejected": 0, "errors": 0}
    errors: list[str] = []

    def worker(conn: psycopg.Connection) -> None:
        while True:
            with lock:
                number = next(next_order, None)
            if number is None:
                return
            started = time.perf_counter()
            try:
                ok = place(
                    conn, store=args.store, lines=orders[number], prices=prices,
                    email=f"raw{number}@bench.example",
                )  # fmt: skip
                outcome = "confirmed" if ok else "rejected"
            except psycopg.Error as exc:
                outcome = "errors"
                errors.append(str(exc)[:200])
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                outcomes[outcome] += 1

    threads = [threading.Thread(target=worker, args=(c,)) for c in connections]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    duration = time.perf_counter() - started
    for conn in connections:
        conn.close()

    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    print(
        json.dumps(
            {
                "requests": len(latencies),
                "duration_s": duration,
                **outcomes,
                "error_samples": errors[:5],
                "latency_ms": {
                    "mean": statistics.fmean(latencies) * 1000,
                    "p50": cuts[49] * 1000,
                    "p95": cuts[94] * 1000,
                    "p99": cuts[98] * 1000,
                    "max": max(latencies) * 1000,
                },
            }
        )
    )


if __name__ == "__main__":
    main()
