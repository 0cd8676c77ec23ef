"""Partial index for the search filter ``in_stock=true``.

Only rows with stock are indexed, so "in stock in this store" and "in stock anywhere" are answered
from a small index instead of filtering every inventory row. Plain SQL that PostgreSQL and SQLite
both accept; it is kept out of the model state on purpose (the model belongs to the stores app).
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("stores", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS inventory_in_stock_idx "
            "ON stores_inventory (product_id, store_id) WHERE quantity > 0",
            "DROP INDEX IF EXISTS inventory_in_stock_idx",
        ),
    ]
