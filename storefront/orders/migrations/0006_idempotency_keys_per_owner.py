"""Idempotency-Keys belong to the user who sent them (anonymous clients share one namespace).

Existing keys take their order's buyer as owner, then orders_place (sql/orders_place.sql) claims
and replays keys within the buyer's namespace.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from storefront.common.sql import run_sql_file

OWNERS_FROM_ORDERS = (
    "UPDATE orders_idempotencykey k SET owner_id = o.placed_by_id "
    "FROM orders_order o WHERE o.id = k.order_id"
)


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0005_orders_place_composes_inventory_and_outbox'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='idempotencykey',
            name='owner',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='idempotency_keys', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='idempotencykey',
            name='key',
            field=models.CharField(max_length=255),
        ),
        migrations.AddConstraint(
            model_name='idempotencykey',
            constraint=models.UniqueConstraint(fields=('owner', 'key'), name='idempotencykey_owner_key_uniq', nulls_distinct=False),
        ),
        migrations.RunSQL(OWNERS_FROM_ORDERS, migrations.RunSQL.noop),
        # Irreversible: the file holds only the current function, which needs the owner column.
        run_sql_file("orders", "orders_place.sql", reverse_sql=None),
    ]
