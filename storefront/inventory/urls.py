from django.urls import path

from storefront.inventory.api import StoreInventoryListApi

urlpatterns = [
    path("<int:store_id>/inventory/", StoreInventoryListApi.as_view(), name="store-inventory-list"),
]
