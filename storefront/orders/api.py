from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from storefront.common.errors import error_example, error_response
from storefront.common.idempotency import (
    KEY_PARAMETER,
    KEY_REUSED_EXAMPLE,
    REPLAYED_HEADERS,
    idempotency_key,
)
from storefront.common.pagination import KEYSET_PAGING_ERROR, KeysetPagination
from storefront.common.serializers import MAX_ID, StrictIntegerField, rendered, validated
from storefront.orders.models import Order
from storefront.orders.selectors import (
    order_detail,
    order_list_for_customer,
    order_list_for_store,
    order_visible_to,
)
from storefront.orders.services import OrderLine, OrderNotFound, order_cancel, order_place
from storefront.stores.selectors import store_exists, store_is_managed_by

_INVALID = "The request is invalid."
_ERRORS = {
    400: error_response(
        'Invalid input: {"error": {"code", "message", "fields": {field: [messages]}}}.',
        error_example(
            "Empty order", "invalid", _INVALID, {"items": ["This list may not be empty."]}
        ),
        error_example(
            "Unknown product",
            "invalid",
            _INVALID,
            {"items": {"0": {"product_id": ["Product 99999 does not exist."]}}},
        ),
    ),
    401: error_response(
        "No credentials.",
        error_example(
            "No token", "not_authenticated", "Authentication credentials were not provided."
        ),
    ),
    403: error_response(
        "Not allowed for this store or order.",
        error_example(
            "Another store's staff",
            "permission_denied",
            "Only staff of this store may list its orders.",
        ),
        error_example(
            "The order's customer",
            "permission_denied",
            "Only staff of this store may cancel its orders.",
        ),
    ),
    404: error_response(
        "Unknown store, or an order that does not exist or that you may not see (the two "
        "answer alike).",
        error_example("Unknown order", "not_found", "Order not found."),
        error_example("Unknown store", "not_found", "Store 999 does not exist."),
    ),
    409: error_response(
        "Conflict: the order is not CONFIRMED, or the Idempotency-Key was used for another body.",
        error_example(
            "Not CONFIRMED",
            "conflict",
            "Only CONFIRMED orders can be cancelled; this one is CANCELLED.",
        ),
        KEY_REUSED_EXAMPLE,
    ),
    415: error_response(
        "The body is not `application/json` (spelled so, with no parameter but `charset=utf-8`).",
        error_example(
            "Another type", "unsupported_media_type", 'Unsupported media type "*/*" in request.'
        ),
    ),
}
_ORDER = {
    "id": 1,
    "store": 1,
    "status": "CONFIRMED",
    "email": "buyer@example.com",
    "items": [
        {
            "product_id": 589,
            "title": "Essential Lawn Mower P575",
            "quantity": 1,
            "unit_price": "726.03",
            "line_total": "726.03",
        }
    ],
    "total": "726.03",
    "shortfalls": [],
    "created_at": "2026-01-01T12:00:00Z",
    "cancelled_at": None,
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: _ERRORS[code] for code in codes}


def order_example(name: str, **changes: object) -> OpenApiExample:
    return OpenApiExample(name, value={**_ORDER, **changes}, response_only=True)


@extend_schema_serializer(component_name="OrderItem")
class OrderItemOutputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    title = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2)
    line_total = serializers.DecimalField(max_digits=20, decimal_places=2)


@extend_schema_serializer(component_name="OrderShortfall")
class OrderShortfallOutputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    requested = serializers.IntegerField(source="quantity")
    available = serializers.IntegerField()
    missing = serializers.IntegerField(source="shortfall")


@extend_schema_serializer(component_name="Order")
class OrderOutputSerializer(serializers.Serializer):
    """The whole order (an OrderDetail); shared by placing, reading and cancelling."""

    id = serializers.IntegerField()
    store = serializers.IntegerField(source="store_id")
    status = serializers.ChoiceField(choices=Order.Status.choices)
    # Not EmailField: an order placed without an address has "", which is no email format.
    email = serializers.CharField(help_text="Confirmation address; empty when none was given.")
    items = OrderItemOutputSerializer(many=True, source="lines")
    total = serializers.DecimalField(max_digits=20, decimal_places=2, source="total_amount")
    shortfalls = OrderShortfallOutputSerializer(
        many=True,
        help_text="The lines the store could not fill (REJECTED orders only) and by how much.",
    )
    created_at = serializers.DateTimeField()
    cancelled_at = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(component_name="OrderPlaceLine")
class OrderLineInputSerializer(serializers.Serializer):
    """One line of an order."""

    product_id = StrictIntegerField(min_value=1, max_value=MAX_ID)
    quantity = StrictIntegerField(min_value=1, max_value=settings.ORDER_MAX_QUANTITY)


class OrderPlaceApi(APIView):
    @extend_schema_serializer(component_name="OrderPlaceInput")
    class InputSerializer(serializers.Serializer):
        store = StrictIntegerField(min_value=1, max_value=MAX_ID)
        items = serializers.ListField(
            child=OrderLineInputSerializer(),
            allow_empty=False,
            min_length=1,  # for the schema (minItems); allow_empty=False gives the error
            max_length=settings.ORDER_MAX_LINES,
        )
        email = serializers.EmailField(required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="order_place",
        tags=["orders"],
        summary="Place an order (all or nothing)",
        description=(
            "CONFIRMED with stock taken when every line is in stock, otherwise REJECTED with "
            "`shortfalls` and no stock change; both answer 201. Unknown store: 404; unknown or "
            "archived product: 400; a product the store does not carry: REJECTED (available 0). "
            "Send an `Idempotency-Key` to retry safely: the same key and body return the first "
            "order (header `Idempotent-Replayed: true`), a different body gets 409."
        ),
        request=InputSerializer,
        parameters=[KEY_PARAMETER],
        responses={201: OrderOutputSerializer, **error_responses(400, 404, 409, 415)},
        # Anonymous clients may order; a token makes the order the user's (and scopes its key).
        # drf-spectacular takes security requirement objects here; its stubs say names only.
        auth=[{}, {"tokenAuth": []}],  # type: ignore[list-item]
        examples=[
            OpenApiExample(
                "One line",
                value={
                    "store": 1,
                    "items": [{"product_id": 589, "quantity": 1}],
                    "email": "buyer@example.com",
                },
                request_only=True,
            ),
            OpenApiExample("Confirmed", value=_ORDER, response_only=True, status_codes=["201"]),
            OpenApiExample(
                "Rejected",
                value={
                    "id": 7,
                    "store": 1,
                    "status": "REJECTED",
                    "email": "",
                    "items": [
                        {
                            "product_id": 589,
                            "title": "Pro Laptop",
                            "quantity": 1000000,
                            "unit_price": "10.00",
                            "line_total": "10000000.00",
                        }
                    ],
                    "total": "10000000.00",
                    "shortfalls": [
                        {
                            "product_id": 589,
                            "requested": 1000000,
                            "available": 12,
                            "missing": 999988,
                        }
                    ],
                    "created_at": "2026-01-01T12:00:00Z",
                    "cancelled_at": None,
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        data = validated(self.InputSerializer, request.data)
        placement = order_place(
            store_id=data["store"],
            items=[OrderLine(**line) for line in data["items"]],
            email=data["email"],
            placed_by=request.user if request.user.is_authenticated else None,
            idempotency_key=idempotency_key(request),
        )
        headers = REPLAYED_HEADERS if placement.replayed else None
        return Response(
            rendered(OrderOutputSerializer, placement.order), status=201, headers=headers
        )


class OrderDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="order_detail",
        tags=["orders"],
        summary="One order (its customer, the store's staff or a superuser)",
        description="Anyone else gets 404, as for an order that does not exist.",
        responses={200: OrderOutputSerializer, **error_responses(401, 404)},
        examples=[order_example("Confirmed")],
    )
    def get(self, request: Request, order_id: int) -> Response:
        order = order_detail(order_id=order_id)
        if order is None or not order_visible_to(order=order, user=request.user):
            raise OrderNotFound
        return Response(rendered(OrderOutputSerializer, order))


class OrderCancelApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="order_cancel",
        tags=["orders"],
        summary="Cancel a CONFIRMED order and return its stock (store staff)",
        description=(
            "Exactly once: a second or concurrent cancel gets 409. The order's customer gets "
            "403; anyone else who may not see the order gets 404, as for one that does not exist."
        ),
        request=None,
        responses={200: OrderOutputSerializer, **error_responses(401, 403, 404, 409)},
        examples=[
            order_example("Cancelled", status="CANCELLED", cancelled_at="2026-01-01T12:05:00Z")
        ],
    )
    def post(self, request: Request, order_id: int) -> Response:
        order = order_cancel(order_id=order_id, cancelled_by=request.user)
        return Response(rendered(OrderOutputSerializer, order))


class OrderSummaryOutputSerializer(serializers.Serializer):
    """An order in a listing: its totals, stored on the order row, instead of its lines."""

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Order.Status.choices)
    created_at = serializers.DateTimeField()
    total_items = serializers.IntegerField(help_text="Sum of the line quantities.")
    total_amount = serializers.DecimalField(max_digits=20, decimal_places=2)


class NewestOrderPagination(KeysetPagination):
    # The order of order_list_for_store and order_list_for_customer: the columns of
    # order_store_newest_idx after the store, of order_customer_newest_idx after the customer.
    ordering = ("-created_at", "-id")


class OrderListApi(generics.ListAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="OrderSummary")
    class OutputSerializer(OrderSummaryOutputSerializer):
        store = serializers.IntegerField(source="store_id")

    serializer_class = OutputSerializer
    pagination_class = NewestOrderPagination

    def get_queryset(self) -> QuerySet[Order]:
        user = self.request.user
        assert user.is_authenticated  # IsAuthenticated let the request in
        return order_list_for_customer(user_id=user.pk)

    @extend_schema(
        operation_id="order_list",
        tags=["orders"],
        summary="Your orders, newest first",
        description=(
            "The orders placed with your token; `GET /orders/<id>/` shows one with its lines. "
            "Orders placed without a token belong to no one and are not listed."
        ),
        responses={
            200: OutputSerializer(many=True),
            400: KEYSET_PAGING_ERROR,
            **error_responses(401),
        },
        examples=[
            OpenApiExample(
                "Newest first",
                value={
                    "id": 1,
                    "store": 1,
                    "status": "CONFIRMED",
                    "created_at": "2026-01-01T12:00:00Z",
                    "total_items": 1,
                    "total_amount": "726.03",
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        return self.list(request)


class StoreOrderListApi(generics.ListAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="StoreOrderSummary")
    class OutputSerializer(OrderSummaryOutputSerializer):
        pass

    serializer_class = OutputSerializer
    pagination_class = NewestOrderPagination

    def get_queryset(self) -> QuerySet[Order]:
        return order_list_for_store(store_id=self.kwargs["store_id"])

    @extend_schema(
        operation_id="store_order_list",
        tags=["stores"],
        summary="A store's orders, newest first (its staff or a superuser)",
        responses={
            200: OutputSerializer(many=True),
            400: KEYSET_PAGING_ERROR,
            **error_responses(401, 403, 404),
        },
        examples=[
            OpenApiExample(
                "Newest first",
                value={
                    "id": 2,
                    "status": "REJECTED",
                    "created_at": "2026-01-01T12:01:00Z",
                    "total_items": 1000000,
                    "total_amount": "726030000.00",
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, store_id: int) -> Response:
        if not store_exists(store_id=store_id):
            raise NotFound(f"Store {store_id} does not exist.")
        if not store_is_managed_by(store_id=store_id, user=request.user):
            raise PermissionDenied("Only staff of this store may list its orders.")
        return self.list(request)
