from django.db import models

from storefront.catalog.models import Product
from storefront.stores.models import Store


class Inventory(models.Model):
    """A store's stock of one product. Changed only through storefront.inventory.services."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="inventory")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="inventory")
    # Kept non-negative by locking (services); the CHECK is only the last line of defence.
    quantity = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    # lower(product title), the listing's sort key. Database triggers (stores migration 0003)
    # keep it equal to the product's title on every insert, product change and title edit,
    # whoever writes (ORM, COPY, raw SQL), so it is never set here.
    product_title_key = models.CharField(max_length=200, default="", editable=False)

    class Meta:
        # The table predates this app (the model moved here from `stores`, migration 0001).
        db_table = "stores_inventory"
        verbose_name_plural = "inventory"
        constraints = [
            models.UniqueConstraint(
                fields=["store", "product"], name="inventory_store_product_uniq"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=0), name="inventory_quantity_gte_0"
            ),
        ]
        indexes = [
            # "in stock anywhere" and the per-product store lookup start from the product.
            models.Index(fields=["product", "store"], name="inventory_product_store_idx"),
            # A store's listing in title order: deep pages walk this index, not a sort.
            models.Index(
                fields=["store", "product_title_key", "product"], name="inventory_store_title_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store_id}/{self.product_id}: {self.quantity}"
