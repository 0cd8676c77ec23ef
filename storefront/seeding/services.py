"""Deterministic sample data: stores, categories, products, inventory and a store-1 staff user;
for `make run`, development accounts with known passwords (dev_accounts_ensure).

Two kinds of catalog: `simple` (the default: 10 categories, titles of ~90 words plus a model
code, which the README's examples use) and `realistic` (realistic.py: 24 departments, brands,
product lines, model codes and attributes with a long-tail vocabulary, 20-60 word descriptions).
Products and stock rows are streamed in batches through PostgreSQL's COPY into tables without
their secondary indexes, built once at the end: a million realistic products, their stock and
the search tables their triggers fill take ~8 minutes rather than hours of row-by-row saves.
"""

import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, transaction
from rest_framework.authtoken.models import Token

from storefront.catalog.models import Category, Product
from storefront.common.sql import copy_rows
from storefront.inventory.models import Inventory, StockMovement
from storefront.inventory.services import stock_load
from storefront.seeding.drafts import ProductDraft
from storefront.seeding.realistic import RealisticCatalog
from storefront.stores.models import Store

CATALOG: dict[str, list[str]] = {
    "Electronics": ["Laptop", "Headphones", "Mouse", "Keyboard", "Monitor", "Speaker", "Tablet"],
    "Phones": ["Smartphone", "Phone Case", "Charger", "Power Bank", "Screen Protector"],
    "Home": ["Blender", "Coffee Maker", "Vacuum", "Air Purifier", "Desk Lamp", "Kettle"],
    "Sports": ["Running Shoes", "Yoga Mat", "Dumbbell Set", "Bike Helmet", "Water Bottle"],
    "Books": ["Cookbook", "Novel", "Travel Guide", "Notebook", "Comic Collection"],
    "Toys": ["Building Blocks", "Puzzle", "Board Game", "Drone", "Robot Kit"],
    "Clothing": ["Jacket", "Hoodie", "T-Shirt", "Backpack", "Sneakers", "Rain Coat"],
    "Beauty": ["Hair Dryer", "Face Cream", "Electric Shaver", "Perfume", "Toothbrush"],
    "Garden": ["Lawn Mower", "Garden Hose", "Pruning Shears", "Planter", "Grill"],
    "Office": ["Office Chair", "Standing Desk", "Printer", "Webcam", "Shredder"],
}
MODIFIERS = [
    "Pro", "Ultra", "Smart", "Classic", "Eco", "Mini", "Max", "Premium", "Compact",
    "Wireless", "Portable", "Deluxe", "Essential", "Turbo", "Lite", "Professional",
]  # fmt: skip
BRANDS = ["Acme", "Nordic", "Vertex", "Lumen", "Orbit", "Kestrel", "Summit", "Zenith", "Pioneer"]
FEATURES = [
    "built to last", "with a two-year warranty", "energy efficient", "water resistant",
    "lightweight and durable", "designed for everyday use", "award-winning design",
]  # fmt: skip
CITIES = ["Berlin", "Lisbon", "Oslo", "Madrid", "Vienna", "Prague", "Dublin", "Warsaw", "Rome"]
BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
STAFF_USERNAME = "store1-manager"
FLAGSHIP_PRODUCTS = 1_000
# Known passwords for `make run` only (dev_accounts_ensure); production seeds none.
DEV_ADMIN_USERNAME = "admin"
DEV_ADMIN_PASSWORD = "admin-dev-password"
DEV_STAFF_PASSWORD = "store1-dev-password"
CATALOG_KINDS = ("simple", "realistic")


@dataclass(frozen=True)
class SeedPlan:
    stores: int
    products: int
    inventory_per_store: int
    seed: int
    catalog: str = "simple"  # one of CATALOG_KINDS
    batch_size: int = 20_000

    @property
    def flagship_rows(self) -> int:
        return min(max(self.inventory_per_store, FLAGSHIP_PRODUCTS), self.products)

    @property
    def total_rows(self) -> int:
        """Products plus inventory rows: what the progress bar counts."""
        per_store = min(self.inventory_per_store, self.products)
        return self.products + self.flagship_rows + (self.stores - 1) * per_store


@dataclass(frozen=True)
class SeedResult:
    stores: int
    products: int
    inventory_rows: int


Progress = Callable[[int], object]


def catalog_is_empty() -> bool:
    return not Product.objects.exists()


def staff_token() -> str | None:
    """The API token of store 1's staff user, once seeded."""
    return Token.objects.filter(user__username=STAFF_USERNAME).values_list("key", flat=True).first()


def catalog_reset() -> None:
    """Empties every table of our apps and restarts their ids, so a reseed is reproducible."""
    tables = [
        model._meta.db_table
        for label in ("notifications", "orders", "inventory", "stores", "catalog")
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    ]
    statements = connection.ops.sql_flush(
        no_style(), tables, reset_sequences=True, allow_cascade=True
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # TRUNCATE refuses to run while deferred FK checks of this transaction are pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in statements:
            cursor.execute(statement)


def catalog_seed(*, plan: SeedPlan, progress: Progress) -> SeedResult:
    rng = random.Random(plan.seed)
    with transaction.atomic():
        category_names, products = _catalog_products(plan=plan, rng=rng)
        categories = _create_categories(category_names)
        stores = _create_stores(plan.stores)
        with _indexes_built_after_loading(_bulk_loaded_tables()):
            _insert_products(
                plan=plan, products=products, category_ids=categories, progress=progress
            )
            product_ids = list(Product.objects.order_by("id").values_list("id", flat=True))
            inventory_rows = _insert_inventory(
                plan=plan, rng=rng, store_ids=[s.id for s in stores], product_ids=product_ids,
                progress=progress,
            )  # fmt: skip
        _create_store_staff(stores[0])
    _refresh_planner_statistics(
        [Category._meta.db_table, Store._meta.db_table, *_bulk_loaded_tables()]
    )
    return SeedResult(
        stores=len(stores),
        products=len(product_ids),
        inventory_rows=inventory_rows,
    )


def _catalog_products(
    *, plan: SeedPlan, rng: random.Random
) -> tuple[Sequence[str], Iterator[ProductDraft]]:
    """The category names and the products of the plan's kind of catalog."""
    if plan.catalog == "realistic":
        realistic = RealisticCatalog(rng)
        return realistic.categories, realistic.products(plan.products)
    return list(CATALOG), _simple_products(count=plan.products, rng=rng)


def _create_categories(names: Sequence[str]) -> dict[str, int]:
    Category.objects.bulk_create([Category(name=name) for name in names], ignore_conflicts=True)
    return dict(Category.objects.values_list("name", "id"))


def _create_stores(count: int) -> list[Store]:
    Store.objects.bulk_create(
        [
            Store(name=f"Store {number}", city=CITIES[(number - 1) % len(CITIES)])
            for number in range(1, count + 1)
        ],
        ignore_conflicts=True,
    )
    return list(Store.objects.order_by("id")[:count])


def _simple_products(*, count: int, rng: random.Random) -> Iterator[ProductDraft]:
    names = list(CATALOG)
    for index in range(count):
        category = names[index % len(names)]
        noun = rng.choice(CATALOG[category])
        modifier = rng.choice(MODIFIERS)
        brand = rng.choice(BRANDS)
        title = f"{modifier} {noun} {rng.choice('ABCDEFGHKLMNPRSTVXZ')}{rng.randint(10, 999)}"
        description = f"{brand} {noun.lower()}, {rng.choice(FEATURES)}."
        price = Decimal(rng.randint(199, 199_999)) / 100
        yield ProductDraft(title, description, price, category)


def _product_rows(
    *, products: Iterator[ProductDraft], category_ids: dict[str, int]
) -> Iterator[tuple[str, str, Decimal, int, datetime, datetime]]:
    for index, product in enumerate(products):
        created_at = BASE_TIME + timedelta(seconds=index)
        yield (
            product.title, product.description, product.price, category_ids[product.category],
            created_at, created_at,
        )  # fmt: skip


def _batches(rows: Iterator[tuple], size: int) -> Iterator[Sequence[tuple]]:
    while batch := list(itertools.islice(rows, size)):
        yield batch


def _load(
    write: Callable[[Sequence[tuple]], object],
    rows: Iterator[tuple],
    *,
    batch_size: int,
    progress: Progress,
) -> int:
    """Writes the rows in batches (write() COPYs each), and refreshes the planner's statistics
    of the loaded tables each time the rows loaded have doubled. Without them (autovacuum may
    be off, and it never sees an open transaction's rows) the planner takes the growing
    search tables for any size and, at ~800,000 realistic products, chose to scan all of
    it, comparing each row with the batch's 20,000 ids, in every batch's trigger: minutes per
    batch instead of seconds."""
    loaded = analyzed_at = 0
    for batch in _batches(rows, batch_size):
        write(batch)
        progress(len(batch))
        loaded += len(batch)
        if loaded >= 2 * analyzed_at:
            _refresh_planner_statistics(_bulk_loaded_tables())
            analyzed_at = loaded
    return loaded


def _insert_products(
    *,
    plan: SeedPlan,
    products: Iterator[ProductDraft],
    category_ids: dict[str, int],
    progress: Progress,
) -> None:
    fields = ["title", "description", "price", "category", "created_at", "updated_at"]
    rows = _product_rows(products=products, category_ids=category_ids)
    _load(
        lambda batch: copy_rows(Product, fields, batch),
        rows,
        batch_size=plan.batch_size,
        progress=progress,
    )


def _inventory_rows(
    *, plan: SeedPlan, rng: random.Random, store_ids: list[int], product_ids: list[int]
) -> Iterator[tuple[int, int, int]]:
    flagship, *others = store_ids
    # The flagship store carries the first products, all in stock, so that documented
    # examples such as {"store": 1, "items": [{"product_id": 589, ...}]} always confirm.
    for product_id in product_ids[: plan.flagship_rows]:
        yield flagship, product_id, rng.randint(20, 200)
    per_store = min(plan.inventory_per_store, len(product_ids))
    for store_id in others:
        for product_id in rng.sample(product_ids, per_store):
            # One row in ten is sold out, so in_stock filters have something to drop.
            quantity = 0 if rng.random() < 0.1 else rng.randint(1, 200)
            yield store_id, product_id, quantity


def _insert_inventory(
    *,
    plan: SeedPlan,
    rng: random.Random,
    store_ids: list[int],
    product_ids: list[int],
    progress: Progress,
) -> int:
    rows = _inventory_rows(plan=plan, rng=rng, store_ids=store_ids, product_ids=product_ids)
    # Stock goes in through inventory, which writes each row's `initial` movement with it.
    return _load(
        lambda batch: stock_load(rows=batch, at=BASE_TIME),
        rows,
        batch_size=plan.batch_size,
        progress=progress,
    )


def _bulk_loaded_tables() -> list[str]:
    """The tables a seed fills: products, stock and its movements by COPY, the search app's by
    their triggers."""
    search_tables = [model._meta.db_table for model in apps.get_app_config("search").get_models()]
    stock_tables = [Inventory._meta.db_table, StockMovement._meta.db_table]
    return [Product._meta.db_table, *stock_tables, *search_tables]


@contextmanager
def _indexes_built_after_loading(tables: Sequence[str]) -> Iterator[None]:
    """Loads the tables without their secondary indexes, then builds those again from their
    own definitions: PostgreSQL's advice for populating a database. One build is several times
    faster than a million insertions into each index, the trigram GIN indexes of titles and
    descriptions above all (`--catalog realistic`: 100k products in 78 s instead of 115-140 s,
    1M in 467 s, where the row-by-row path had loaded 820k after 27 min; the simple catalog's
    1M in 170 s instead of 554 s). Unique indexes and those behind constraints stay: ON
    CONFLICT and the foreign keys need them. Inside the seed's transaction, so a failed seed
    leaves every index as it was."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = ANY(%s::regclass[]) AND NOT indisunique "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid)",
            [list(tables)],
        )
        definitions = cursor.fetchall()
        for name, _ in definitions:
            cursor.execute(f"DROP INDEX {name}")  # regclass text: quoted where needed
    yield
    with connection.cursor() as cursor:
        # PostgreSQL refuses to build an index on a table with pending (deferred) FK checks.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _, definition in definitions:
            cursor.execute(definition)


def _refresh_planner_statistics(tables: Sequence[str]) -> None:
    """Fresh statistics for the tables: without them (autovacuum may be off or not yet run)
    the planner guesses row counts and picks slow plans for search."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(tables)}")


def dev_accounts_ensure() -> str:
    """Development only: the superuser DEV_ADMIN_USERNAME and store 1's staff user, each with
    its known password, created or repaired; returns the staff user's API token.

    A password already right is left alone: setting it again would change its hash, and with
    it end the admin sessions of a developer who restarts `make run`.
    """
    users = get_user_model()
    with transaction.atomic():
        admin, _ = users.objects.get_or_create(
            username=DEV_ADMIN_USERNAME, defaults={"email": "admin@storefront.local"}
        )
        admin.is_active = admin.is_staff = admin.is_superuser = True
        _password_ensure(admin, DEV_ADMIN_PASSWORD)
        admin.save()
        token = _create_store_staff(Store.objects.order_by("id")[0])
        staff = users.objects.get(username=STAFF_USERNAME)
        staff.is_active = True
        _password_ensure(staff, DEV_STAFF_PASSWORD)
        staff.save()
    return token


def _password_ensure(user: AbstractBaseUser, password: str) -> None:
    if not user.check_password(password):
        user.set_password(password)


def _create_store_staff(store: Store) -> str:
    # No password: it logs in with its token (or, under `make run`, dev_accounts_ensure's).
    user, _ = get_user_model().objects.get_or_create(
        username=STAFF_USERNAME,
        defaults={"email": "manager@store1.example", "password": make_password(None)},
    )
    store.staff.add(user)
    return Token.objects.get_or_create(user=user)[0].key
