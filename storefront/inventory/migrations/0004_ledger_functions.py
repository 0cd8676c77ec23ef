"""The ledger's functions (sql/stock.sql) and its opening: every existing stock row gets one
`initial` movement holding its quantity, so the ledger adds up from the start.

inventory_lock, inventory_take and inventory_return take new arguments, which CREATE OR
REPLACE cannot add: the old functions are dropped first (orders 0007 installs the orders_place
that calls the new ones). IF EXISTS: on a new database migration 0002 has already installed
this version of the file. Irreversible: the old functions' text is gone from the file.
"""

from django.db import migrations

from storefront.common.sql import run_sql_file

OLD_FUNCTIONS = [
    "inventory_take(bigint, bigint[], integer[], timestamptz)",
    "inventory_return(bigint, bigint[], integer[], timestamptz)",
    "inventory_lock(bigint, bigint[])",
]
OPEN_LEDGER = """
    INSERT INTO inventory_stockmovement
        (store_id, product_id, delta, quantity_after, reason, reference, created_at)
    SELECT store_id, product_id, quantity, quantity, 'initial', 'ledger opened', now()
    FROM stores_inventory
    ORDER BY store_id, product_id
"""


class Migration(migrations.Migration):
    dependencies = [("inventory", "0003_stock_movements")]

    operations = [
        migrations.RunSQL([f"DROP FUNCTION IF EXISTS {signature}" for signature in OLD_FUNCTIONS]),
        run_sql_file("inventory", "stock.sql", reverse_sql=None),
        migrations.RunSQL(OPEN_LEDGER),
    ]
