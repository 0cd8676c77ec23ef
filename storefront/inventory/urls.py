from django.urls import path

from storefront.inventory.api import (
    StockAdjustApi,
    StockBulkApi,
    StockCountApi,
    StockMovementListApi,
    StoreInventoryListApi,
)

urlpatterns = [
    path("<int:store_id>/inventory/", StoreInventoryListApi.as_view(), name="store-inventory-list"),
    path(
        "<int:store_id>/inventory/adjustments/",
        StockAdjustApi.as_view(),
        name="store-stock-adjust",
    ),
    path("<int:store_id>/inventory/bulk/", StockBulkApi.as_view(), name="store-stock-bulk"),
    path(
        "<int:store_id>/inventory/<int:product_id>/",
        StockCountApi.as_view(),
        name="store-stock-count",
    ),
    path(
        "<int:store_id>/inventory/<int:product_id>/movements/",
        StockMovementListApi.as_view(),
        name="store-stock-movements",
    ),
]
