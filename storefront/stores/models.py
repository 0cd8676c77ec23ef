from django.conf import settings
from django.db import models

from storefront.catalog.models import Product


class Store(models.Model):
    name = models.CharField(max_length=100, unique=True)
    city = models.CharField(max_length=100, blank=True)
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="staffed_stores", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Inventory(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="inventory")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="inventory")
    # Orders keep this non-negative by locking; the CHECK is only the last line of defence.
    quantity = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
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
        ]

    def __str__(self) -> str:
        return f"{self.store_id}/{self.product_id}: {self.quantity}"
