from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from storefront.inventory.models import Inventory, StockMovement, StockReason
from storefront.inventory.services import stock_set


@admin.register(Inventory)
class InventoryAdmin(admin.ModelAdmin):
    """Stock edits go through the inventory service (row lock, no lost order, an `admin`
    movement in the ledger), never a plain save; rows are not deleted here (set the quantity
    to 0)."""

    list_display = ["id", "store", "product", "quantity", "updated_at"]
    list_filter = ["store"]
    search_fields = ["product__title"]
    list_select_related = ["store", "product"]
    raw_id_fields = ["product"]
    fields = ["store", "product", "quantity"]
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Inventory | None = None) -> list[str]:
        return ["store", "product"] if obj is not None else []

    def save_model(
        self, request: HttpRequest, obj: Inventory, form: ModelForm, change: bool
    ) -> None:
        stock_set(
            store_id=obj.store_id,
            product_id=obj.product_id,
            quantity=obj.quantity,
            reason=StockReason.ADMIN,
            user=request.user,
        )
        # The admin's redirect and log entry name the saved row.
        obj.pk = Inventory.objects.values_list("pk", flat=True).get(
            store_id=obj.store_id, product_id=obj.product_id
        )

    def has_delete_permission(self, request: HttpRequest, obj: Inventory | None = None) -> bool:
        return False


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin):
    """The ledger, read only: movements are written by stock changes and never edited."""

    list_display = ["id", "store", "product", "delta", "quantity_after", "reason", "order_id",
                    "reference", "created_by", "created_at"]  # fmt: skip
    list_filter = ["reason", "store"]
    search_fields = ["=product__id", "=order_id", "reference"]
    list_select_related = ["store", "product", "created_by"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
