from django.urls import path

from storefront.stores.api import StoreDetailApi, StoreListApi

urlpatterns = [
    path("", StoreListApi.as_view(), name="store-list"),
    path("<int:store_id>/", StoreDetailApi.as_view(), name="store-detail"),
]
