"""A customer's orders are listed newest first from an index of their own. (orders_place's
refusal of archived products is installed by 0008, with the ledger.)"""

from django.conf import settings
from django.db import migrations, models



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
    ]
