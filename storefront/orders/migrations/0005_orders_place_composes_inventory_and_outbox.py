"""orders_place from sql/orders_place.sql: stock through inventory_take, the outbox row through
notifications_order_email_enqueue, and an outcome per row instead of flags.

Its result columns change, which CREATE OR REPLACE cannot do: the old function is dropped
first. Going back re-creates the old one from migration 0004.
"""

import importlib

from django.db import migrations

from storefront.common.sql import run_sql_file

NEW_SIGNATURE = "orders_place(bigint, bigint[], integer[], text, integer, timestamptz, text, text)"
OLD = importlib.import_module("storefront.orders.migrations.0004_orders_place_function")


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0004_orders_place_function"),
        ("inventory", "0002_stock_functions"),
        ("notifications", "0002_outbox_owns_its_rows"),
    ]

    operations = [
        migrations.RunSQL(f"DROP FUNCTION IF EXISTS {NEW_SIGNATURE}", OLD.CREATE),
        run_sql_file("orders", "orders_place.sql", reverse_sql=f"DROP FUNCTION {NEW_SIGNATURE}"),
    ]
