from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from storefront.common.errors import error_example, error_response
from storefront.common.pagination import KEYSET_PAGING_ERROR, KeysetPagination
from storefront.common.replicas import lag_tolerant
from storefront.common.serializers import rendered
from storefront.stores.models import Store
from storefront.stores.selectors import store_get, store_list

_STORE = {"id": 1, "name": "Store 1", "city": "Lyon"}


@extend_schema_serializer(component_name="Store")
class StoreOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    city = serializers.CharField(help_text="Empty when unknown.")


class StorePagination(KeysetPagination):
    ordering = ("id",)


class StoreListApi(generics.ListAPIView):
    serializer_class = StoreOutputSerializer
    pagination_class = StorePagination

    def get_queryset(self) -> QuerySet[Store]:
        return store_list()

    @extend_schema(
        operation_id="store_list",
        tags=["stores"],
        summary="The stores, by id (public)",
        responses={200: StoreOutputSerializer(many=True), 400: KEYSET_PAGING_ERROR},
        examples=[OpenApiExample("A store", value=_STORE, response_only=True)],
    )
    @lag_tolerant
    def get(self, request: Request) -> Response:
        return self.list(request)


class StoreDetailApi(APIView):
    @extend_schema(
        operation_id="store_detail",
        tags=["stores"],
        summary="One store (public)",
        responses={
            200: StoreOutputSerializer,
            404: error_response(
                "Unknown store.",
                error_example("Unknown store", "not_found", "Store 999 does not exist."),
            ),
        },
        examples=[OpenApiExample("A store", value=_STORE, response_only=True)],
    )
    @lag_tolerant
    def get(self, request: Request, store_id: int) -> Response:
        store = store_get(store_id=store_id)
        if store is None:
            raise NotFound(f"Store {store_id} does not exist.")
        return Response(rendered(StoreOutputSerializer, store))
