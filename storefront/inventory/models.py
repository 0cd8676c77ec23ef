from django.conf import settings
from django.db import models

from storefront.catalog.models import Product
from storefront.stores.models import Store


class Inventory(models.Model):
    """A store's stock of one product. Changed only through storefront.inventory.services."""

    # No single-column indexes: inventory_store_product_uniq and inventory_product_store_idx
    # start with each column, and every index is written again by each change of `quantity`.
    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="inventory", db_index=False
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="inventory", db_index=False
    )
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


class StockReason(models.TextChoices):
    """Why stock moved: by an order, its cancel, staff (restock to count), the admin, a seed."""

    ORDER = "order"
    CANCEL = "cancel"
    RESTOCK = "restock"
    CORRECTION = "correction"
    DAMAGE = "damage"
    RETURN = "return"
    COUNT = "count"
    ADMIN = "admin"
    INITIAL = "initial"


class StockMovement(models.Model):
    """One change of a stock row: the ledger. Written only by inventory's SQL functions
    (sql/stock.sql), in the transaction that changes the row, so that for every (store,
    product) the deltas add up to the row's quantity (docs/inventory.md); never updated."""

    Reason = StockReason

    # No foreign key constraints: a movement's store and product are those of its stock row,
    # which has them (inventory_change writes movements only for existing rows), and their
    # checks cost every order and ~0.45 s per 10,000-line bulk. Django still cascades, like the
    # stock row: a row's history goes with it, so the ledger still adds up. No single-column
    # indexes either: the row index below serves the store, and every index costs each order;
    # deleting a product or a user (rare: products are archived) scans the ledger.
    store = models.ForeignKey(
        Store,
        on_delete=models.CASCADE,
        related_name="stock_movements",
        db_index=False,
        db_constraint=False,
    )
    product = models.ForeignKey(
        Product,
        on_delete=models.CASCADE,
        related_name="stock_movements",
        db_index=False,
        db_constraint=False,
    )
    delta = models.IntegerField()
    quantity_after = models.IntegerField()
    reason = models.CharField(max_length=10, choices=StockReason.choices)
    # The order that took (`order`) or gave back (`cancel`) the units. By id only, as the
    # outbox does: orders depends on inventory, never the reverse.
    order_id = models.BigIntegerField(null=True, blank=True)
    reference = models.CharField(max_length=100, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity_after__gte=0), name="stockmovement_quantity_after_gte_0"
            ),
            models.CheckConstraint(
                condition=models.Q(reason__in=StockReason.values),
                name="stockmovement_reason_valid",
            ),
        ]
        indexes = [
            # A row's movements newest first. Ids, not times: they are drawn under the row
            # lock, so for one row they follow the order of its changes.
            models.Index(fields=["store", "product", "-id"], name="stockmovement_row_newest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.store_id}/{self.product_id}: {self.delta:+d} ({self.reason})"
