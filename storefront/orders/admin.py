from django.contrib import admin

from storefront.orders.models import Order, OrderItem


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    raw_id_fields = ["product"]
    extra = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "store", "status", "email", "placed_by", "created_at"]
    list_filter = ["status", "store"]
    search_fields = ["id", "email"]
    list_select_related = ["store", "placed_by"]
    raw_id_fields = ["placed_by"]
    inlines = [OrderItemInline]
    date_hierarchy = "created_at"
    show_full_result_count = False
