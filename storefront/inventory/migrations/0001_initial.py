"""Inventory moves here from the `stores` app: the model state only, the table stays.

The table keeps its name (stores_inventory), its indexes, constraints and triggers; only
Django's idea of which app owns the model changes (stores 0004 drops it from `stores`).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("catalog", "0003_product_listing_indexes"),
        ("stores", "0003_inventory_product_title_key"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Inventory",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("quantity", models.IntegerField(default=0)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("product_title_key", models.CharField(default="", editable=False, max_length=200)),
                        ("product", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="inventory", to="catalog.product")),
                        ("store", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="inventory", to="stores.store")),
                    ],
                    options={
                        "db_table": "stores_inventory",
                        "verbose_name_plural": "inventory",
                        "indexes": [
                            models.Index(fields=["product", "store"], name="inventory_product_store_idx"),
                            models.Index(fields=["store", "product_title_key", "product"], name="inventory_store_title_idx"),
                        ],
                        "constraints": [
                            models.UniqueConstraint(fields=("store", "product"), name="inventory_store_product_uniq"),
                            models.CheckConstraint(condition=models.Q(("quantity__gte", 0)), name="inventory_quantity_gte_0"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
