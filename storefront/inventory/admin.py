from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from storefront.inventory.models import Inventory
from storefront.inventory.services import stock_set


@admin.register(Inventory)
class InventoryAdmin(admin.ModelAdmin):
    """Stock edits go through the inventory service (row lock, no lost order), never a plain
    save; rows are not deleted here (set the quantity to 0)."""

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
        saved = stock_set(store_id=obj.store_id, product_id=obj.product_id, quantity=obj.quantity)
        obj.pk = saved.pk  # the admin's redirect and log entry name the saved row

    def has_delete_permission(self, request: HttpRequest, obj: Inventory | None = None) -> bool:
        return False
