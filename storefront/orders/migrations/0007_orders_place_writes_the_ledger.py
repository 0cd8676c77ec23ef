"""orders_place from sql/orders_place.sql: inventory_take now takes the order id and buyer, which
it writes on the stock movements of the ledger (inventory 0004)."""

from django.db import migrations

from storefront.common.sql import run_sql_file


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0006_idempotency_keys_per_owner"),
        ("inventory", "0004_ledger_functions"),
    ]

    operations = [run_sql_file("orders", "orders_place.sql", reverse_sql=None)]
