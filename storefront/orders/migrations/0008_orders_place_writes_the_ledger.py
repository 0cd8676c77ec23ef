"""orders_place from sql/orders_place.sql: inventory_take now takes the order id and buyer, which
it writes on the stock movements of the ledger (inventory 0004), and archived products are
refused as unknown ones are (catalog 0004). Irreversible: the file holds only the current
function."""

from django.db import migrations

from storefront.common.sql import run_sql_file


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0007_archived_products_and_customer_orders"),
        ("inventory", "0004_ledger_functions"),
        ("catalog", "0004_product_archived_at_category_name_ci"),
    ]

    operations = [run_sql_file("orders", "orders_place.sql", reverse_sql=None)]
