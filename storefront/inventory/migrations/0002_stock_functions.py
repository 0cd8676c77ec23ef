from django.db import migrations

from storefront.common.sql import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [
        run_sql_file(
            "inventory",
            "stock.sql",
            reverse_sql=[
                "DROP FUNCTION inventory_return(bigint, bigint[], integer[], timestamptz)",
                "DROP FUNCTION inventory_take(bigint, bigint[], integer[], timestamptz)",
                "DROP FUNCTION inventory_lock(bigint, bigint[])",
            ],
        ),
    ]
