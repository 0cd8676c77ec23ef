from decimal import Decimal

from django.conf import settings
from django.db import models

from storefront.catalog.models import Product
from storefront.stores.models import Store


class Order(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "CONFIRMED"
        REJECTED = "REJECTED"
        CANCELLED = "CANCELLED"

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=10, choices=Status.choices)
    email = models.EmailField(blank=True)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Sums over the items, written once when the order is placed (items never change after):
    # the store's listing reads them from the order row instead of aggregating every item.
    # Requested quantities, so a REJECTED order shows what was asked for. The database
    # defaults only serve writers that bypass orders_place (raw SQL in bench/).
    total_items = models.PositiveIntegerField(db_default=0)
    total_amount = models.DecimalField(max_digits=20, decimal_places=2, db_default=Decimal("0"))

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["store", "-created_at", "-id"], name="order_store_newest_idx"),
            # A customer's orders (GET /orders/). Anonymous orders have no customer: leaving
            # them out keeps the index smaller and their inserts cheaper.
            models.Index(
                fields=["placed_by", "-created_at", "-id"],
                name="order_customer_newest_idx",
                condition=models.Q(placed_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.pk} ({self.status})"


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_items")
    quantity = models.IntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    # Units the store lacked when the order was placed (0 when the line was satisfiable).
    # Stored rather than recomputed: stock moves on, the reason for a rejection must not.
    shortfall = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="orderitem_quantity_gt_0"
            ),
            models.CheckConstraint(
                condition=models.Q(shortfall__lte=models.F("quantity")),
                name="orderitem_shortfall_lte_quantity",
            ),
            # Duplicate product lines are merged before the order is written.
            models.UniqueConstraint(
                fields=["order", "product"], name="orderitem_order_product_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id}"

    @property
    def line_total(self) -> Decimal:
        return self.quantity * self.unit_price


class IdempotencyKey(models.Model):
    """A client-chosen key that makes POST /orders/ safe to retry.

    Keys are scoped to the authenticated user who sent them: another user's key of the same
    text is another key, so nobody can claim a key someone else will use. Anonymous clients
    share one namespace (owner NULL; NULLS NOT DISTINCT makes NULL owners collide like users).
    Inserted by orders_place before the stock is taken: a concurrent request with the same key
    blocks on the unique index until the first one commits, then replays its order.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="idempotency_keys",
    )
    key = models.CharField(max_length=255)
    # sha256 of the normalised request, so a reused key with another body is detected.
    fingerprint = models.CharField(max_length=64)
    # Null only inside the placing transaction, before the order row exists.
    order = models.OneToOneField(
        Order, on_delete=models.CASCADE, null=True, related_name="idempotency_key"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "key"], nulls_distinct=False, name="idempotencykey_owner_key_uniq"
            ),
        ]

    def __str__(self) -> str:
        return self.key
