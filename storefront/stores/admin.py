from django.contrib import admin

from storefront.stores.models import Store


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "city", "created_at"]
    search_fields = ["name", "city"]
    filter_horizontal = ["staff"]
