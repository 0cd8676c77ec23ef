"""orders_place refuses archived products as it refuses unknown ones (sql/orders_place.sql),
and a customer's orders are listed newest first from an index of their own."""

from django.conf import settings
from django.db import migrations, models

from storefront.common.sql import run_sql_file


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0006_idempotency_keys_per_owner'),
        ('catalog', '0004_product_archived_at_category_name_ci'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='order',
            index=models.Index(condition=models.Q(('placed_by__isnull', False)), fields=['placed_by', '-created_at', '-id'], name='order_customer_newest_idx'),
        ),
        # Irreversible: the file holds only the current function, which needs archived_at.
        run_sql_file("orders", "orders_place.sql", reverse_sql=None),
    ]
