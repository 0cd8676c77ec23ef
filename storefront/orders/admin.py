from django.contrib import admin

from storefront.orders.models import IdempotencyKey, Order, OrderItem


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    raw_id_fields = ["product"]
    extra = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "store", "status", "email", "placed_by", "created_at", "cancelled_at"]
    list_filter = ["status", "store"]
    search_fields = ["id", "email"]
    list_select_related = ["store", "placed_by"]
    raw_id_fields = ["placed_by"]
    inlines = [OrderItemInline]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "order", "created_at"]
    search_fields = ["key"]
    raw_id_fields = ["order"]
    readonly_fields = ["key", "fingerprint", "order", "created_at"]
    show_full_result_count = False
