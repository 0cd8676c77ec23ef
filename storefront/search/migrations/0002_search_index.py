"""The search tables as they are now, and sql/search_index.sql, which keeps them equal to the
catalog; then today's catalog is indexed (a million products: a minute or two).

Replaces 0002-0006, written while the search tables took shape: a database that ran those has
this one as applied.
"""

from pathlib import Path
from typing import Any

from django.db import migrations, models

FUNCTIONS = [
    "search_products_truncated()",
    "search_products_changed()",
    "search_index_products(bigint[])",
    "search_index_word_titles(bigint[])",
    "search_index_words(bigint[])",
    "search_normalize(text)",
]
TRIGGERS = ["truncated", "deleted", "updated", "inserted"]
UNINSTALL: list[str | tuple[str, Any]] = [
    *(f"DROP TRIGGER search_products_{name} ON catalog_product" for name in TRIGGERS),
    *(f"DROP FUNCTION {signature}" for signature in FUNCTIONS),
]


class Migration(migrations.Migration):
    replaces = [
        ("search", "0002_search_tables_sync"),
        ("search", "0003_word_sources"),
        ("search", "0004_word_sources_sync"),
        ("search", "0005_term_category_index"),
        ("search", "0006_word_then_title_terms"),
    ]

    dependencies = [
        ("search", "0001_search_tables"),
        ("catalog", "0003_product_listing_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="searchword",
            name="in_description",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="searchword",
            name="in_title",
            field=models.BooleanField(default=False),
        ),
        migrations.AddIndex(
            model_name="searchterm",
            index=models.Index(
                fields=["category", "source", "term", "product"],
                include=("price",),
                name="search_term_category_idx",
            ),
        ),
        migrations.AlterField(
            model_name="searchterm",
            name="source",
            field=models.SmallIntegerField(
                choices=[
                    (1, "the whole title"),
                    (2, "the title from its second or a later word"),
                    (3, "a word of the title, WORD_SEPARATOR, the whole title"),
                ]
            ),
        ),
        # The file as this migration shipped it (0003 replaces what it installs).
        migrations.RunSQL(
            (Path(__file__).parent / "0002_search_index.sql").read_text(),
            UNINSTALL,
        ),
        migrations.RunSQL(
            [
                "SELECT search_index_products(ARRAY(SELECT id FROM catalog_product))",
                "ANALYZE search_term, search_word",
            ],
            "TRUNCATE search_term, search_word",
        ),
    ]
