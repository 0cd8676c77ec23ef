from django.contrib import admin

from storefront.notifications.models import OrderEmail


@admin.register(OrderEmail)
class OrderEmailAdmin(admin.ModelAdmin):
    list_display = ["id", "order", "status", "recipient", "attempts", "sent_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["order__id", "recipient"]
    raw_id_fields = ["order"]
    readonly_fields = ["created_at", "updated_at", "sent_at"]
    show_full_result_count = False
