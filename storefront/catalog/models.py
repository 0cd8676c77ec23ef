from django.db import models
from django.db.models.functions import Lower


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        constraints = [
            # Categories are looked up by name case-insensitively (search's `category`, the
            # catalog API's): "home" and "Home" would be one name for two categories.
            models.UniqueConstraint(Lower("name"), name="category_name_ci_uniq"),
        ]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the product was retired (DELETE /api/catalog/products/<id>/); NULL while it is on
    # sale. An archived product cannot be ordered and is left out of search, suggest and the
    # store listings; its row stays for the orders and stock movements that refer to it.
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["title", "id"]
        indexes = [
            models.Index(fields=["title", "id"], name="product_title_id_idx"),
            models.Index(fields=["price", "id"], name="product_price_id_idx"),
            models.Index(fields=["category", "price"], name="product_category_price_idx"),
            models.Index(fields=["-created_at", "-id"], name="product_newest_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_gte_0"),
        ]

    def __str__(self) -> str:
        return self.title
