"""Search v2: one document per product (accent-folded title, the words of its title and
description as a tsvector), the catalog version, and the search functions; replaces the per-word
terms of 0002. Then today's catalog is indexed (a million products: a few minutes). Forward only.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.deletion
from django.contrib.postgres.operations import CreateExtension
from django.db import migrations, models

from storefront.common.sql import run_sql_file

OLD_TRIGGERS = ["truncated", "deleted", "updated", "inserted"]
OLD_FUNCTIONS = [
    "search_products_truncated()",
    "search_products_changed()",
    "search_index_products(bigint[])",
    "search_index_word_titles(bigint[])",
    "search_index_words(bigint[])",
    "search_normalize(text)",
]


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0002_search_index"),
        ("catalog", "0004_product_archived_at_category_name_ci"),  # the triggers read archived_at
    ]

    operations = [
        CreateExtension("unaccent"),
        migrations.RunSQL(
            [
                *(f"DROP TRIGGER search_products_{name} ON catalog_product" for name in OLD_TRIGGERS),
                *(f"DROP FUNCTION {signature}" for signature in OLD_FUNCTIONS),
            ]
        ),
        migrations.DeleteModel(name="SearchTerm"),
        migrations.RemoveField(model_name="searchword", name="in_description"),
        migrations.RemoveField(model_name="searchword", name="in_title"),
        migrations.CreateModel(
            name="CatalogVersion",
            fields=[
                ("id", models.SmallIntegerField(primary_key=True, serialize=False)),
                ("version", models.BigIntegerField()),
            ],
            options={"db_table": "search_catalog"},
        ),
        migrations.CreateModel(
            name="SearchDocument",
            fields=[
                (
                    "product",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="catalog.product",
                    ),
                ),
                ("title_key", models.TextField(db_collation="C")),
                ("words", django.contrib.postgres.search.SearchVectorField()),
                ("price", models.DecimalField(decimal_places=2, max_digits=10)),
                ("created_at", models.DateTimeField()),
                (
                    "category",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="catalog.category",
                    ),
                ),
            ],
            options={
                "db_table": "search_document",
                "indexes": [
                    django.contrib.postgres.indexes.GinIndex(
                        fields=["words"], name="search_document_words_idx", fastupdate=False
                    ),
                    django.contrib.postgres.indexes.GinIndex(
                        django.contrib.postgres.indexes.OpClass("title_key", name="gin_trgm_ops"),
                        name="search_document_title_trgm_idx",
                    ),
                    models.Index(
                        fields=["title_key", "product"],
                        include=["price", "category"],
                        name="search_document_title_idx",
                    ),
                    models.Index(
                        fields=["category", "title_key", "product"],
                        name="search_document_category_idx",
                    ),
                    models.Index(fields=["price", "product"], name="search_document_price_idx"),
                    models.Index(
                        fields=["-created_at", "-product"], name="search_document_newest_idx"
                    ),
                ],
            },
        ),
        run_sql_file("search", "search_index.sql", reverse_sql=None),
        run_sql_file("search", "search.sql", reverse_sql=None),
        migrations.RunSQL(
            [
                "TRUNCATE search_word",
                "SELECT search_index_products(ARRAY(SELECT id FROM catalog_product))",
                "SELECT search_catalog_changed()",
                "ANALYZE search_document, search_word",
            ]
        ),
    ]
