from django.contrib import admin

from storefront.stores.models import Inventory, Store


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "city", "created_at"]
    search_fields = ["name", "city"]
    filter_horizontal = ["staff"]


@admin.register(Inventory)
class InventoryAdmin(admin.ModelAdmin):
    list_display = ["id", "store", "product", "quantity", "updated_at"]
    list_filter = ["store"]
    search_fields = ["product__title"]
    list_select_related = ["store", "product"]
    raw_id_fields = ["product"]
    show_full_result_count = False
