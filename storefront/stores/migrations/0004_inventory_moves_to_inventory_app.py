"""Inventory now belongs to the `inventory` app (its migration 0001): state only, the table stays."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("stores", "0003_inventory_product_title_key"),
        ("inventory", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Inventory")],
            database_operations=[],
        ),
    ]
