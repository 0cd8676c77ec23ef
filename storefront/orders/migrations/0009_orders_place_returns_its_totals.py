"""orders_place returns each line's shortfall and the order's total as it stores them, so the
outcome is computed in SQL only. Its result type changes: dropped, then installed again.
Irreversible: the file holds only the current function."""

from django.db import migrations

from storefront.common.sql import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("orders", "0008_orders_place_writes_the_ledger")]

    operations = [
        migrations.RunSQL(
            "DROP FUNCTION orders_place(bigint, bigint[], integer[], text, integer, timestamptz,"
            " text, text)"
        ),
        run_sql_file("orders", "orders_place.sql", reverse_sql=None),
    ]
