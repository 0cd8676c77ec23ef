"""B-trees for two listings the trigram indexes cannot order.

- (category_id, title, id): the default search listing narrowed to one category; without it
  PostgreSQL walks the whole title index and discards the other categories' rows.
- (UPPER(title) COLLATE "C", title, id), PostgreSQL only: suggestions list titles starting with
  `q` in case-insensitive order. Under the "C" collation ``LIKE 'PRO%'`` becomes an index range
  (a C.UTF-8 database collation does not qualify on PostgreSQL 15), so the first ten distinct
  titles come straight off the index instead of sorting every prefix match.

Plain SQL kept out of the model state because the model is not owned by the search code; see
docs/search.md.
"""

from django.db import migrations


def create_suggest_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS product_title_upper_c_idx "
            'ON catalog_product ((UPPER(title) COLLATE "C"), title, id)'
        )


def drop_suggest_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS product_title_upper_c_idx")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("catalog", "0002_product_search_indexes"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS product_category_title_idx "
            "ON catalog_product (category_id, title, id)",
            "DROP INDEX IF EXISTS product_category_title_idx",
        ),
        migrations.RunPython(create_suggest_index, drop_suggest_index, elidable=False),
    ]
