from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from storefront.common.errors import error_example, error_response
from storefront.common.pagination import KEYSET_PAGING_ERROR, KeysetPagination
from storefront.inventory.models import Inventory
from storefront.inventory.selectors import inventory_list
from storefront.stores.selectors import store_exists


class InventoryPagination(KeysetPagination):
    # inventory_list's order, the columns of inventory_store_title_idx after the store: every
    # page is a range scan of that index from the previous page's last row.
    ordering = ("product_title_key", "product_id")


class StoreInventoryListApi(generics.ListAPIView):
    @extend_schema_serializer(component_name="StoreInventoryLine")
    class OutputSerializer(serializers.Serializer):
        product_id = serializers.IntegerField()
        title = serializers.CharField(source="product.title")
        price = serializers.DecimalField(source="product.price", max_digits=10, decimal_places=2)
        category = serializers.CharField(source="product.category.name")
        quantity = serializers.IntegerField()

    serializer_class = OutputSerializer
    pagination_class = InventoryPagination

    def get_queryset(self) -> QuerySet[Inventory]:
        return inventory_list(store_id=self.kwargs["store_id"])

    @extend_schema(
        operation_id="store_inventory_list",
        tags=["stores"],
        summary="A store's stock, alphabetical by product title (public)",
        responses={
            200: OutputSerializer(many=True),
            400: KEYSET_PAGING_ERROR,
            404: error_response(
                "Unknown store.",
                error_example("Unknown store", "not_found", "Store 999 does not exist."),
            ),
        },
        examples=[
            OpenApiExample(
                "A page of stock",
                value={
                    "product_id": 623,
                    "title": "Classic Air Purifier B897",
                    "price": "1531.79",
                    "category": "Home",
                    "quantity": 123,
                },
            )
        ],
    )
    def get(self, request: Request, store_id: int) -> Response:
        if not store_exists(store_id=store_id):
            raise NotFound(f"Store {store_id} does not exist.")
        return self.list(request)
