from django.contrib import admin
from django.http import HttpRequest

from storefront.notifications.models import OrderEmail


@admin.register(OrderEmail)
class OrderEmailAdmin(admin.ModelAdmin):
    """The outbox as the worker leaves it: read-only, its rows change only by sending."""

    list_display = ["id", "order_id", "status", "recipient", "attempts", "sent_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["=order_id", "recipient"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OrderEmail | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OrderEmail | None = None) -> bool:
        return False
