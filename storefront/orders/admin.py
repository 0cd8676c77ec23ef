from typing import ClassVar

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework.exceptions import APIException

from storefront.orders.models import IdempotencyKey, Order, OrderItem
from storefront.orders.services import order_cancel


class ReadOnlyAdmin(admin.ModelAdmin):
    """Orders change only through the order services (placing, cancelling): the admin shows."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    fields: ClassVar[tuple[str, ...]] = ("product", "quantity", "unit_price", "shortfall")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["id", "store", "status", "email", "placed_by", "created_at", "cancelled_at"]
    list_filter = ["status", "store"]
    search_fields = ["id", "email"]
    list_select_related = ["store", "placed_by"]
    inlines = [OrderItemInline]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["cancel_orders"]

    @admin.action(description="Cancel the selected orders and return their stock")
    def cancel_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        for order_id in queryset.values_list("pk", flat=True):
            try:
                order_cancel(order_id=order_id, cancelled_by=request.user)
            except APIException as refused:  # not CONFIRMED, or not this user's store
                self.message_user(request, f"Order {order_id}: {refused.detail}", messages.ERROR)
            else:
                self.message_user(request, f"Order {order_id} cancelled.", messages.SUCCESS)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ["key", "order", "created_at"]
    search_fields = ["key"]
    show_full_result_count = False
