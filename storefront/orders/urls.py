from django.urls import path

from storefront.common.routing import by_method
from storefront.orders.api import (
    OrderCancelApi,
    OrderDetailApi,
    OrderListApi,
    OrderPlaceApi,
    StoreOrderListApi,
)

urlpatterns = [
    path("orders/", by_method(OrderPlaceApi, OrderListApi), name="order-place"),
    path("orders/<int:order_id>/", OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<int:order_id>/cancel/", OrderCancelApi.as_view(), name="order-cancel"),
    path("stores/<int:store_id>/orders/", StoreOrderListApi.as_view(), name="store-order-list"),
]
