"""Inventory.product_title_key: the product's lowercased title, kept on the stock row.

A store's listing is ordered by lower(product title), then product id. Sorting a store's
50,000 rows joined to their products for every page cost ~0.5-1 s at deep pages; with the key on
the inventory row, the index (store_id, product_title_key, product_id) yields the rows already
in order. The key is maintained by the database, not by Python, because inventory rows are
written by several paths this app does not own (order cancellations, seed COPY, raw SQL in
tests and tooling): a trigger fills it on insert (and when a row is repointed at another
product), and a trigger on catalog_product rewrites it when a title changes. PostgreSQL and
SQLite get the same triggers in their own dialects; both compute lower() exactly as the
former ORDER BY lower(title) did, so the order is unchanged. See docs/listings.md.
"""

from django.db import migrations, models

POSTGRES_FORWARD = [
    # Backfill before the triggers exist, so it is one set-based UPDATE without per-row calls.
    """
    UPDATE stores_inventory AS i SET product_title_key = lower(p.title)
    FROM catalog_product AS p WHERE p.id = i.product_id
    """,
    """
    CREATE FUNCTION stores_inventory_set_title_key() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        SELECT lower(title) INTO NEW.product_title_key
        FROM catalog_product WHERE id = NEW.product_id;
        RETURN NEW;
    END
    $$
    """,
    # UPDATE OF product_title_key too: a full ORM save() writes back the key it read, which a
    # concurrent title edit may have made stale.
    """
    CREATE TRIGGER inventory_title_key_set
    BEFORE INSERT OR UPDATE OF product_id, product_title_key ON stores_inventory
    FOR EACH ROW EXECUTE FUNCTION stores_inventory_set_title_key()
    """,
    """
    CREATE FUNCTION catalog_product_sync_inventory_title_key() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE stores_inventory SET product_title_key = lower(NEW.title)
        WHERE product_id = NEW.id;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER product_title_key_sync
    AFTER UPDATE OF title ON catalog_product
    FOR EACH ROW WHEN (lower(OLD.title) IS DISTINCT FROM lower(NEW.title))
    EXECUTE FUNCTION catalog_product_sync_inventory_title_key()
    """,
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS product_title_key_sync ON catalog_product",
    "DROP FUNCTION IF EXISTS catalog_product_sync_inventory_title_key()",
    "DROP TRIGGER IF EXISTS inventory_title_key_set ON stores_inventory",
    "DROP FUNCTION IF EXISTS stores_inventory_set_title_key()",
]

# SQLite triggers cannot assign NEW, so they update the row right after it is written; the
# WHEN clause stops the update from re-triggering itself.
SQLITE_FORWARD = [
    """
    UPDATE stores_inventory SET product_title_key =
        (SELECT lower(title) FROM catalog_product WHERE id = stores_inventory.product_id)
    """,
    """
    CREATE TRIGGER inventory_title_key_insert AFTER INSERT ON stores_inventory
    BEGIN
        UPDATE stores_inventory SET product_title_key =
            (SELECT lower(title) FROM catalog_product WHERE id = NEW.product_id)
        WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER inventory_title_key_update
    AFTER UPDATE OF product_id, product_title_key ON stores_inventory
    WHEN NEW.product_title_key IS NOT
        (SELECT lower(title) FROM catalog_product WHERE id = NEW.product_id)
    BEGIN
        UPDATE stores_inventory SET product_title_key =
            (SELECT lower(title) FROM catalog_product WHERE id = NEW.product_id)
        WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER product_title_key_sync AFTER UPDATE OF title ON catalog_product
    WHEN lower(OLD.title) IS NOT lower(NEW.title)
    BEGIN
        UPDATE stores_inventory SET product_title_key = lower(NEW.title)
        WHERE product_id = NEW.id;
    END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS product_title_key_sync",
    "DROP TRIGGER IF EXISTS inventory_title_key_update",
    "DROP TRIGGER IF EXISTS inventory_title_key_insert",
]


def _run(statements_by_vendor: dict[str, list[str]]):
    def run(apps, schema_editor):
        for statement in statements_by_vendor[schema_editor.connection.vendor]:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0003_product_listing_indexes"),
        ("stores", "0002_inventory_in_stock_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="inventory",
            name="product_title_key",
            field=models.CharField(default="", editable=False, max_length=200),
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
            elidable=False,
        ),
        migrations.AddIndex(
            model_name="inventory",
            index=models.Index(
                fields=["store", "product_title_key", "product"], name="inventory_store_title_idx"
            ),
        ),
    ]
