"""The catalog API: products by id (public), and the writes of staff with Django's catalog
permissions (`catalog.add_product`, `change_product`, `delete_product`, `add_category`) or
superusers. One view per operation; by_method (catalog/urls.py) shares a URL among them."""

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import generics, serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from storefront.catalog.models import Category
from storefront.catalog.selectors import category_list, product_detail
from storefront.catalog.services import (
    ProductNotFound,
    category_create,
    product_archive,
    product_create,
    product_update,
)
from storefront.common.errors import error_example, error_response
from storefront.common.idempotency import (
    KEY_PARAMETER,
    KEY_REUSED_EXAMPLE,
    REPLAYED_HEADERS,
    Idempotent,
    idempotency_key,
)
from storefront.common.pagination import KEYSET_PAGING_ERROR, KeysetPagination
from storefront.common.replicas import lag_tolerant
from storefront.common.serializers import rendered, validated

_INVALID = "The request is invalid."
_ERRORS = {
    400: error_response(
        'Invalid input: {"error": {"code", "message", "fields": {field: [messages]}}}.',
        error_example(
            "Negative price",
            "invalid",
            _INVALID,
            {"price": ["Ensure this value is greater than or equal to 0."]},
        ),
        error_example("Unknown category", "invalid", _INVALID, {"category": ["Unknown category."]}),
    ),
    401: error_response(
        "No credentials.",
        error_example(
            "No token", "not_authenticated", "Authentication credentials were not provided."
        ),
    ),
    403: error_response(
        "The user lacks the operation's catalog permission (and is no superuser).",
        error_example(
            "No permission",
            "permission_denied",
            "You do not have permission to perform this action.",
        ),
    ),
    404: error_response(
        "Unknown product.",
        error_example("Unknown product", "not_found", "Product 99999 does not exist."),
    ),
    409: error_response("The Idempotency-Key was used for another request.", KEY_REUSED_EXAMPLE),
    415: error_response(
        "The body is not `application/json` (spelled so, with no parameter but `charset=utf-8`).",
        error_example(
            "Another type", "unsupported_media_type", 'Unsupported media type "*/*" in request.'
        ),
    ),
}
_PRODUCT = {
    "id": 1201,
    "title": "Trail Running Shoe T1",
    "description": "Light, with a rock plate.",
    "price": "89.90",
    "category_id": 3,
    "category": "Sports",
    "created_at": "2026-01-01T12:00:00Z",
    "updated_at": "2026-01-01T12:00:00Z",
    "archived_at": None,
}
_CATEGORY = {"id": 7, "name": "Garden"}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: _ERRORS[code] for code in codes}


def product_example(name: str, status: str = "200", **changes: object) -> OpenApiExample:
    return OpenApiExample(
        name, value={**_PRODUCT, **changes}, response_only=True, status_codes=[status]
    )


def permission(perm: str) -> type[BasePermission]:
    """Users holding Django's model permission `perm`, and superusers (has_perm says yes to
    them). Without credentials DRF answers 401, with a user lacking it 403."""

    class HasPermission(BasePermission):
        def has_permission(self, request: Request, view: APIView) -> bool:
            return request.user.has_perm(perm)

    HasPermission.__name__ = f"Has({perm})"
    return HasPermission


def idempotent_response(
    written: Idempotent[Any], serializer: type[serializers.Serializer], status: int
) -> Response:
    headers = REPLAYED_HEADERS if written.replayed else None
    return Response(rendered(serializer, written.result), status=status, headers=headers)


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string", "maxLength": 100}]})
class CategoryReferenceField(serializers.CharField):
    """A category id (an integer, or its digits) or name, case-insensitive; an existing id wins
    over a numeric name, as in search."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=100, **kwargs)

    def to_internal_value(self, data: object) -> str:
        if isinstance(data, int) and not isinstance(data, bool):
            data = str(data)
        elif not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def price_field(**kwargs: Any) -> serializers.DecimalField:
    # The column's precision: numeric(10, 2), never negative.
    return serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("0"), **kwargs
    )


@extend_schema_serializer(component_name="Product")
class ProductOutputSerializer(serializers.Serializer):
    """A product (a ProductDetail); shared by every product operation."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    category_id = serializers.IntegerField()
    category = serializers.CharField(help_text="The category's name.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    archived_at = serializers.DateTimeField(
        allow_null=True, help_text="When it was archived (DELETE); null while on sale."
    )


@extend_schema_serializer(component_name="Category")
class CategoryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ProductDetailApi(APIView):
    @extend_schema(
        operation_id="product_detail",
        tags=["catalog"],
        summary="One product (public)",
        description="Archived products too (`archived_at` set): orders keep referring to them.",
        responses={200: ProductOutputSerializer, **error_responses(404)},
        examples=[product_example("On sale")],
    )
    @lag_tolerant
    def get(self, request: Request, product_id: int) -> Response:
        product = product_detail(product_id=product_id)
        if product is None:
            raise ProductNotFound(product_id)
        return Response(rendered(ProductOutputSerializer, product))


class ProductCreateApi(APIView):
    permission_classes = [permission("catalog.add_product")]

    @extend_schema_serializer(component_name="ProductCreateInput")
    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=200)
        description = serializers.CharField(required=False, allow_blank=True, default="")
        price = price_field()
        category = CategoryReferenceField()

    @extend_schema(
        operation_id="product_create",
        tags=["catalog"],
        summary="Add a product (catalog.add_product or a superuser)",
        description=(
            "On sale, and found by search, at once. `category` is an id or a name. Send an "
            "`Idempotency-Key` to retry safely: the same key and body return the product the "
            "first request created (header `Idempotent-Replayed: true`), another body gets 409."
        ),
        request=InputSerializer,
        parameters=[KEY_PARAMETER],
        responses={201: ProductOutputSerializer, **error_responses(400, 401, 403, 409, 415)},
        examples=[
            OpenApiExample(
                "A product",
                value={
                    "title": "Trail Running Shoe T1",
                    "description": "Light, with a rock plate.",
                    "price": "89.90",
                    "category": "Sports",
                },
                request_only=True,
            ),
            product_example("Created", "201"),
        ],
    )
    def post(self, request: Request) -> Response:
        data = validated(self.InputSerializer, request.data)
        written = product_create(
            **data, created_by=request.user, idempotency_key=idempotency_key(request)
        )
        return idempotent_response(written, ProductOutputSerializer, 201)


class ProductUpdateApi(APIView):
    permission_classes = [permission("catalog.change_product")]

    @extend_schema_serializer(component_name="ProductUpdateInput")
    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=200, required=False)
        description = serializers.CharField(required=False, allow_blank=True)
        price = price_field(required=False)
        category = CategoryReferenceField(required=False)

    @extend_schema(
        operation_id="product_update",
        tags=["catalog"],
        summary="Change a product (catalog.change_product or a superuser)",
        description=(
            "Only the fields sent change. Orders placed afterwards pay the new price. Takes an "
            "`Idempotency-Key` like product creation."
        ),
        request=InputSerializer,
        parameters=[KEY_PARAMETER],
        responses={
            200: ProductOutputSerializer,
            **error_responses(400, 401, 403, 404, 409, 415),
        },
        examples=[
            OpenApiExample("New price", value={"price": "79.90"}, request_only=True),
            product_example("Changed", price="79.90", updated_at="2026-01-01T12:05:00Z"),
        ],
    )
    def patch(self, request: Request, product_id: int) -> Response:
        data = validated(self.InputSerializer, request.data)
        written = product_update(
            product_id=product_id,
            **data,
            updated_by=request.user,
            idempotency_key=idempotency_key(request),
        )
        return idempotent_response(written, ProductOutputSerializer, 200)


class ProductArchiveApi(APIView):
    permission_classes = [permission("catalog.delete_product")]

    @extend_schema(
        operation_id="product_archive",
        tags=["catalog"],
        summary="Archive a product (catalog.delete_product or a superuser)",
        description=(
            "Nothing is deleted: the product can no longer be ordered (400, as an unknown "
            "product) and leaves search, suggest and the store listings at once, while orders "
            "and stock keep referring to it. Archiving it again changes nothing. Takes an "
            "`Idempotency-Key` like product creation."
        ),
        request=None,
        parameters=[KEY_PARAMETER],
        responses={200: ProductOutputSerializer, **error_responses(401, 403, 404, 409)},
        examples=[
            product_example(
                "Archived",
                archived_at="2026-01-01T12:10:00Z",
                updated_at="2026-01-01T12:10:00Z",
            )
        ],
    )
    def delete(self, request: Request, product_id: int) -> Response:
        written = product_archive(
            product_id=product_id,
            archived_by=request.user,
            idempotency_key=idempotency_key(request),
        )
        return idempotent_response(written, ProductOutputSerializer, 200)


class CategoryPagination(KeysetPagination):
    ordering = ("name",)  # unique, and indexed


class CategoryListApi(generics.ListAPIView):
    serializer_class = CategoryOutputSerializer
    pagination_class = CategoryPagination

    def get_queryset(self) -> QuerySet[Category]:
        return category_list()

    @extend_schema(
        operation_id="category_list",
        tags=["catalog"],
        summary="The categories, by name (public)",
        responses={200: CategoryOutputSerializer(many=True), 400: KEYSET_PAGING_ERROR},
        examples=[OpenApiExample("A category", value=_CATEGORY, response_only=True)],
    )
    @lag_tolerant
    def get(self, request: Request) -> Response:
        return self.list(request)


class CategoryCreateApi(APIView):
    permission_classes = [permission("catalog.add_category")]

    @extend_schema_serializer(component_name="CategoryCreateInput")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)

    @extend_schema(
        operation_id="category_create",
        tags=["catalog"],
        summary="Add a category (catalog.add_category or a superuser)",
        description=(
            "Names are unique whatever their case: another category's name is a 400. Takes an "
            "`Idempotency-Key` like product creation."
        ),
        request=InputSerializer,
        parameters=[KEY_PARAMETER],
        responses={
            201: CategoryOutputSerializer,
            400: error_response(
                "Invalid or taken name.",
                error_example(
                    "Taken name",
                    "invalid",
                    _INVALID,
                    {"name": ["A category with this name already exists."]},
                ),
            ),
            **error_responses(401, 403, 409, 415),
        },
        examples=[
            OpenApiExample("A category", value={"name": "Garden"}, request_only=True),
            OpenApiExample("Created", value=_CATEGORY, response_only=True, status_codes=["201"]),
        ],
    )
    def post(self, request: Request) -> Response:
        data = validated(self.InputSerializer, request.data)
        written = category_create(
            name=data["name"], created_by=request.user, idempotency_key=idempotency_key(request)
        )
        return idempotent_response(written, CategoryOutputSerializer, 201)
