"""Trigram indexes behind product search (PostgreSQL only; SQLite keeps working without them).

The index expressions match what Django emits for ``icontains``/``istartswith`` on PostgreSQL,
``UPPER("title"::text) LIKE UPPER(%s)``, so the ORM's own lookups use them. CONCURRENTLY keeps
writes flowing while the indexes build on a large table, hence ``atomic = False``.
"""

from django.db import migrations

INDEXES = {
    "product_title_upper_trgm_idx": "UPPER(title) gin_trgm_ops",
    "product_description_upper_trgm_idx": "UPPER(description) gin_trgm_ops",
}


def create_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} "
            f"ON catalog_product USING gin ({expression})"
        )


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("catalog", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_search_indexes, drop_search_indexes, elidable=False),
    ]
