"""The benchmark's own database: create, migrate, seed once, reset between runs, verify.

Everything here runs in the orchestrator process after django.setup() with the bench
environment, so it reuses the project's models instead of repeating their SQL.
"""

import random
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import unquote

import psycopg
from psycopg import sql

from bench.stack import ROOT


@dataclass(frozen=True)
class SeedSize:
    stores: int
    products: int
    inventory_per_store: int


def database_create_if_missing(*, url: str) -> bool:
    """Creates the database named in url (connecting to "postgres"); True if it was created."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    name = info.pop("dbname")
    with psycopg.connect(**{**info, "dbname": "postgres"}, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return not exists


def manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def is_seeded_at(size: SeedSize) -> bool:
    from storefront.catalog.models import Product
    from storefront.inventory.models import Inventory
    from storefront.stores.models import Store

    return (
        Store.objects.count() == size.stores
        and Product.objects.count() == size.products
        and Inventory.objects.count() == size.stores * min(size.inventory_per_store, size.products)
    )


def seed(size: SeedSize, *, env: dict[str, str], catalog: str = "simple") -> None:
    manage(
        "seed_data", "--reset", "--no-progress", "--catalog", catalog,
        "--stores", str(size.stores), "--products", str(size.products),
        "--inventory-per-store", str(size.inventory_per_store),
        env=env,
    )  # fmt: skip


def realistic_is_seeded_at(size: SeedSize, *, url: str) -> bool:
    """Whether the database holds a realistic catalog of this size (its departments, not the
    simple catalog's categories). Asked by SQL: Django is set up for the main bench database."""
    from storefront.seeding.realistic import RealisticCatalog

    with psycopg.connect(url) as conn:
        stores, products, stock = conn.execute(
            "SELECT (SELECT count(*) FROM stores_store), (SELECT count(*) FROM catalog_product), "
            "(SELECT count(*) FROM stores_inventory)"
        ).fetchone()
        categories = {name for (name,) in conn.execute("SELECT name FROM catalog_category")}
    return (stores, products, stock) == (
        size.stores, size.products, size.stores * min(size.inventory_per_store, size.products)
    ) and categories == set(RealisticCatalog.categories)  # fmt: skip


def sample_titles(*, url: str, count: int, seed: int) -> list[tuple[str, int]]:
    """`count` products' (title, category id), drawn at random (ids run from 1 after a seed)."""
    with psycopg.connect(url) as conn:
        (last,) = conn.execute("SELECT max(id) FROM catalog_product").fetchone()
        rng = random.Random(seed)
        ids = [rng.randint(1, last) for _ in range(count)]
        found = conn.execute(
            "SELECT id, title, category_id FROM catalog_product WHERE id = ANY(%s)", [ids]
        )
        rows = {pid: (title, category) for pid, title, category in found}
    return [rows[pid] for pid in ids if pid in rows]


def statistics_refresh(*, url: str) -> None:
    """VACUUM ANALYZE the big tables: this PostgreSQL runs with autovacuum off, so without it
    the planner never gets statistics for the COPY-seeded rows (it estimated 25 rows where
    there are 9,346) and the visibility map stays empty (no index-only scans). Cheap once
    done: vacuum skips all-visible pages."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "VACUUM (ANALYZE) catalog_product, catalog_category, stores_inventory, "
            "search_document, search_word"  # the search tables too
        )


def cache_warm(*, url: str) -> None:
    """Reads every table and index of the bench database into the OS page cache (pg_prewarm,
    PostgreSQL's contrib). This machine's page cache is emptied now and then while nothing
    reads the files: one run's uncached search found it cold, waited on the disk with the CPU
    idle, and measured 4.5 instead of ~50 searches/s."""
    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")  # a standby has its own's
        conn.execute(
            "SELECT pg_prewarm(oid::regclass, 'read') FROM pg_class "
            "WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'i', 'm')"
        )


def staff_token() -> str:
    from rest_framework.authtoken.models import Token

    from storefront.seeding.services import STAFF_USERNAME

    return Token.objects.get(user__username=STAFF_USERNAME).key


def orders_reset(*, listing_store_id: int, listing_orders: int, seed: int = 7) -> None:
    """Empties orders (and their emails, idempotency keys), then gives one store a long history.

    Every run starts from the same order tables, so the listing pages and the hot-SKU checks
    do not depend on what earlier runs left behind.
    """
    from django.db import connection

    from storefront.inventory.models import Inventory
    from storefront.orders.models import Order, OrderItem

    with connection.cursor() as cursor:
        # The outbox refers to orders by id only (no foreign key to cascade along).
        cursor.execute("TRUNCATE orders_order, notifications_orderemail RESTART IDENTITY CASCADE")
    carried = list(
        Inventory.objects.filter(store_id=listing_store_id)
        .order_by("product_id")
        .values_list("product_id", "product__price")[:2000]
    )
    rng = random.Random(seed)
    batch = 5000
    for start in range(0, listing_orders, batch):
        size = min(batch, listing_orders - start)
        baskets = [
            [
                OrderItem(product_id=product, quantity=rng.randint(1, 3), unit_price=price)
                for product, price in rng.sample(carried, rng.randint(1, 3))
            ]
            for _ in range(size)
        ]
        # The totals order_place stores (the listing reads them), not the database's 0 default.
        orders = Order.objects.bulk_create(
            Order(
                store_id=listing_store_id,
                status=rng.choice([Order.Status.CONFIRMED] * 8 + [Order.Status.REJECTED]),
                email=f"history{start + n}@bench.example",
                total_items=sum(line.quantity for line in lines),
                total_amount=sum((line.line_total for line in lines), Decimal("0.00")),
            )
            for n, lines in enumerate(baskets)
        )
        for order, lines in zip(orders, baskets, strict=True):
            for line in lines:
                line.order = order
        OrderItem.objects.bulk_create(line for lines in baskets for line in lines)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")
        cursor.execute("ANALYZE orders_orderitem")


def hot_products(*, store_id: int, count: int) -> list[int]:
    """Products the store carries, lowest ids first: the hot SKUs."""
    from storefront.inventory.models import Inventory

    return list(
        Inventory.objects.filter(store_id=store_id)
        .order_by("product_id")
        .values_list("product_id", flat=True)[:count]
    )


def stock_set(*, store_id: int, product_ids: list[int], quantity: int) -> None:
    """Counts the rows to `quantity` through inventory, as staff would: the ledger adds up."""
    from django.contrib.auth import get_user_model

    from storefront.inventory.models import StockReason
    from storefront.inventory.services import BulkMode, StockLine, stock_bulk
    from storefront.seeding.services import STAFF_USERNAME

    stock_bulk(
        store_id=store_id,
        mode=BulkMode.SET,
        reason=StockReason.COUNT,
        lines=[StockLine(product_id, quantity) for product_id in product_ids],
        reference="bench",
        user=get_user_model().objects.get(username=STAFF_USERNAME),
    )


def negative_rows(*, store_id: int, product_ids: list[int]) -> int:
    from storefront.inventory.models import Inventory

    rows = Inventory.objects.filter(store_id=store_id, product_id__in=product_ids)
    return rows.filter(quantity__lt=0).count()


def last_movement_id() -> int:
    from storefront.inventory.models import StockMovement

    return StockMovement.objects.order_by("-id").values_list("id", flat=True).first() or 0


def ledger_check(*, store_id: int, product_ids: list[int], after_movement_id: int) -> dict:
    """The rows of these products whose ledger drifts (inventory_audit's query), and the units
    the `order` movements since `after_movement_id` took."""
    from django.db.models import Sum

    from storefront.inventory.models import StockMovement
    from storefront.inventory.selectors import ledger_drift

    taken = StockMovement.objects.filter(
        id__gt=after_movement_id, store_id=store_id, product_id__in=product_ids, reason="order"
    ).aggregate(units=Sum("delta"))["units"]
    return {
        "ledger_drift_rows": len(ledger_drift(store_id=store_id, product_ids=product_ids)),
        "units_in_ledger": -(taken or 0),
    }


def last_order_id() -> int:
    from storefront.orders.models import Order

    return Order.objects.order_by("-id").values_list("id", flat=True).first() or 0


@dataclass(frozen=True)
class StockCheck:
    confirmed: int
    rejected: int
    units_sold: int
    units_deducted: int
    negative_rows: int

    @property
    def ok(self) -> bool:
        return self.units_sold == self.units_deducted and self.negative_rows == 0


def stock_check(
    *, store_id: int, product_ids: list[int], initial: int, after_order_id: int
) -> StockCheck:
    """Compares the stock that left the shelf with what CONFIRMED orders since then bought."""
    from django.db.models import Sum

    from storefront.inventory.models import Inventory
    from storefront.orders.models import Order, OrderItem

    orders = Order.objects.filter(store_id=store_id, id__gt=after_order_id)
    remaining = dict(
        Inventory.objects.filter(store_id=store_id, product_id__in=product_ids).values_list(
            "product_id", "quantity"
        )
    )
    sold = OrderItem.objects.filter(
        order__in=orders.filter(status=Order.Status.CONFIRMED), product_id__in=product_ids
    ).aggregate(units=Sum("quantity"))["units"]
    return StockCheck(
        confirmed=orders.filter(status=Order.Status.CONFIRMED).count(),
        rejected=orders.filter(status=Order.Status.REJECTED).count(),
        units_sold=sold or 0,
        units_deducted=sum(initial - remaining[p] for p in product_ids),
        negative_rows=sum(1 for q in remaining.values() if q < 0),
    )


def deadlocks_so_far(*, url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0])


def emails_skip(*, after_order_id: int) -> None:
    """Marks the PENDING emails of these orders SKIPPED, except those a worker is sending now
    (locked): with the 2 s backend its batch would hold this UPDATE for minutes."""
    from django.db import transaction

    from storefront.notifications.models import OrderEmail

    with transaction.atomic():
        pending = OrderEmail.objects.select_for_update(skip_locked=True).filter(
            status=OrderEmail.Status.PENDING, order_id__gt=after_order_id
        )
        OrderEmail.objects.filter(pk__in=list(pending.values_list("pk", flat=True))).update(
            status=OrderEmail.Status.SKIPPED
        )


def email_counts() -> dict[str, int]:
    from django.db.models import Count

    from storefront.notifications.models import OrderEmail

    return dict(OrderEmail.objects.values_list("status").annotate(n=Count("id")).order_by())


def bench_pids(conn: psycopg.Connection) -> list[int]:
    """Backends connected to the bench database but this one (their CPU is the database's)."""
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    ).fetchall()
    return [row[0] for row in rows]


def deepest_cursor(*, store_id: int, listing: str, page_size: int = 20) -> str:
    """The `cursor` of a store listing's last full page, as its `next` links carry it. DRF's
    CursorPagination (the listings') marks a page by the last key before it that differs
    from the page's first key, plus how many rows after that key to skip."""
    from rest_framework.pagination import Cursor

    from storefront.inventory.api import InventoryPagination
    from storefront.inventory.selectors import inventory_list
    from storefront.orders.api import NewestOrderPagination
    from storefront.orders.selectors import order_list_for_store

    if listing == "inventory":
        paginator = InventoryPagination()
        keys = list(inventory_list(store_id=store_id).values_list("product_title_key", flat=True))
    else:
        paginator = NewestOrderPagination()
        keys = list(order_list_for_store(store_id=store_id).values_list("created_at", flat=True))
    start = len(keys) - page_size
    marker = start - 1
    while keys[marker] == keys[start]:
        marker -= 1
    paginator.base_url = "/"
    cursor = Cursor(offset=start - marker - 1, reverse=False, position=str(keys[marker]))
    link = paginator.encode_cursor(cursor)
    return unquote(link.partition("cursor=")[2])
