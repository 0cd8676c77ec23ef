"""Drops the single-column indexes of stores_inventory's foreign keys: the composite indexes
(store, product) and (product, store) start with each column, and a change of `quantity` (every
order, restock and sync) writes every index of the row again."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0004_product_archived_at_category_name_ci'),
        ('inventory', '0004_ledger_functions'),
        ('stores', '0004_inventory_moves_to_inventory_app'),
    ]

    operations = [
        migrations.AlterField(
            model_name='inventory',
            name='product',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='inventory', to='catalog.product'),
        ),
        migrations.AlterField(
            model_name='inventory',
            name='store',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='inventory', to='stores.store'),
        ),
    ]
