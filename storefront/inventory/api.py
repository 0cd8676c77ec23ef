from typing import Any, ClassVar

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from storefront.common import idempotency
from storefront.common.errors import error_example, error_response
from storefront.common.pagination import KEYSET_PAGING_ERROR, KeysetPagination
from storefront.common.replicas import lag_tolerant
from storefront.common.serializers import MAX_ID, StrictIntegerField, rendered, validated
from storefront.inventory.models import Inventory, StockMovement, StockReason
from storefront.inventory.selectors import inventory_list, movement_list, with_live_quantities
from storefront.inventory.services import (
    BULK_MAX_LINES,
    DELTA_SIGNS,
    MAX_QUANTITY,
    BulkMode,
    InsufficientStock,
    MovementWrite,
    StockLine,
    stock_adjust,
    stock_bulk,
    stock_set,
)
from storefront.stores.selectors import store_exists, store_is_managed_by

# The staff operations on a store's stock: its staff or a superuser, others 403, anonymous 401.
_STORE_404 = error_response(
    "Unknown store.", error_example("Unknown store", "not_found", "Store 999 does not exist.")
)


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
            404: _STORE_404,
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
    @lag_tolerant
    def get(self, request: Request, store_id: int) -> Response:
        if not store_exists(store_id=store_id):
            raise NotFound(f"Store {store_id} does not exist.")
        rows = self.paginate_queryset(self.get_queryset()) or []
        rows = with_live_quantities(store_id=store_id, rows=rows)
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)


_STAFF_ERRORS = {
    401: error_response(
        "No credentials.",
        error_example(
            "No token", "not_authenticated", "Authentication credentials were not provided."
        ),
    ),
    403: error_response(
        "Not staff of this store.",
        error_example(
            "Another store's staff",
            "permission_denied",
            "Only staff of this store may manage its stock.",
        ),
    ),
    404: _STORE_404,
}
_KEY_REUSED = error_example(
    "Idempotency-Key reused",
    "conflict",
    "This Idempotency-Key was already used with a different request.",
)
_MOVEMENT = {
    "id": 1201,
    "store": 1,
    "product_id": 589,
    "delta": 25,
    "quantity_after": 144,
    "reason": "restock",
    "reference": "PO-1234",
    "order_id": None,
    "created_by": 2,
    "created_at": "2026-01-01T12:00:00Z",
}


def _staff_of_store(request: Request, store_id: int) -> None:
    """404 for an unknown store, then 403 unless the user is its staff (or a superuser)."""
    if not store_exists(store_id=store_id):
        raise NotFound(f"Store {store_id} does not exist.")
    if not store_is_managed_by(store_id=store_id, user=request.user):
        raise PermissionDenied("Only staff of this store may manage its stock.")


@extend_schema_serializer(component_name="StockMovement")
class MovementOutputSerializer(serializers.Serializer):
    """One movement of the ledger; shared by the stock writes and the movement listing."""

    id = serializers.IntegerField()
    store = serializers.IntegerField(source="store_id")
    product_id = serializers.IntegerField()
    delta = serializers.IntegerField()
    quantity_after = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=StockReason.choices)
    reference = serializers.CharField()
    order_id = serializers.IntegerField(allow_null=True)
    created_by = serializers.IntegerField(source="created_by_id", allow_null=True)
    created_at = serializers.DateTimeField()


def _movement_response(write: MovementWrite, status: int) -> Response:
    headers = idempotency.REPLAYED_HEADERS if write.replayed else None
    return Response(
        rendered(MovementOutputSerializer, write.movement), status=status, headers=headers
    )


_REFERENCE = serializers.CharField(
    max_length=100,
    required=False,
    allow_blank=True,
    default="",
    help_text="Free text: a purchase order, a delivery note, a count sheet.",
)
_ADJUST_REASONS = list(DELTA_SIGNS)  # the reasons of an adjustment, each with its sign
# What staff may give as a count's reason (the admin writes `admin`, a seed `initial`).
_SET_REASONS = [StockReason.COUNT, StockReason.CORRECTION]


class StockAdjustApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="StockAdjustInput")
    class InputSerializer(serializers.Serializer):
        product_id = StrictIntegerField(min_value=1, max_value=MAX_ID)
        delta = StrictIntegerField(
            min_value=-MAX_QUANTITY,
            max_value=MAX_QUANTITY,
            help_text="Signed units: positive for restock and return, negative for damage.",
        )
        reason = serializers.ChoiceField(choices=_ADJUST_REASONS)
        reference = _REFERENCE

    @extend_schema(
        operation_id="store_stock_adjust",
        tags=["stores"],
        summary="Add or remove units of a product (the store's staff or a superuser)",
        description=(
            "Writes one movement of the ledger and answers it. A product the store never "
            "carried gets a stock row. A negative delta larger than the stock: 409 with the "
            "available quantity, nothing written. `restock` and `return` add units, `damage` "
            "removes them, `correction` either. Send an `Idempotency-Key` to retry safely."
        ),
        request=InputSerializer,
        parameters=[idempotency.KEY_PARAMETER],
        responses={
            201: MovementOutputSerializer,
            400: error_response(
                "Invalid input.",
                error_example(
                    "Unknown product",
                    "invalid",
                    "The request is invalid.",
                    {"product_id": ["Product 99999 does not exist."]},
                ),
                error_example(
                    "Wrong sign",
                    "invalid",
                    "The request is invalid.",
                    {"delta": ["A damage removes units: the delta must be negative."]},
                ),
            ),
            **_STAFF_ERRORS,
            409: error_response(
                "Not enough stock (nothing written), or the Idempotency-Key was used for "
                "another body.",
                error_example(
                    "Not enough stock",
                    "insufficient_stock",
                    InsufficientStock.default_detail,
                    {"product_id": 589, "available": 3},
                ),
                _KEY_REUSED,
            ),
        },
        examples=[
            OpenApiExample(
                "Restock",
                value={"product_id": 589, "delta": 25, "reason": "restock", "reference": "PO-1234"},
                request_only=True,
            ),
            OpenApiExample("Recorded", value=_MOVEMENT, response_only=True, status_codes=["201"]),
        ],
    )
    def post(self, request: Request, store_id: int) -> Response:
        _staff_of_store(request, store_id)
        data = validated(self.InputSerializer, request.data)
        write = stock_adjust(
            store_id=store_id,
            product_id=data["product_id"],
            delta=data["delta"],
            reason=data["reason"],
            reference=data["reference"],
            user=request.user,
            idempotency_key=idempotency.idempotency_key(request),
        )
        return _movement_response(write, 201)


class StockCountApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="StockCountInput")
    class InputSerializer(serializers.Serializer):
        quantity = StrictIntegerField(min_value=0, max_value=MAX_QUANTITY)
        reason = serializers.ChoiceField(
            choices=_SET_REASONS, required=False, default=StockReason.COUNT
        )
        reference = _REFERENCE

    @extend_schema(
        operation_id="store_stock_count",
        tags=["stores"],
        summary="Set a product's stock to a counted quantity (the store's staff or a superuser)",
        description=(
            "The movement's delta is computed under the row lock, so no order in progress is "
            "lost; a count that changes nothing is recorded too (delta 0). A product the store "
            "never carried gets a stock row. Send an `Idempotency-Key` to retry safely."
        ),
        request=InputSerializer,
        parameters=[idempotency.KEY_PARAMETER],
        responses={
            200: MovementOutputSerializer,
            400: error_response(
                "Invalid input, or an unknown product.",
                error_example(
                    "Negative quantity",
                    "invalid",
                    "The request is invalid.",
                    {"quantity": ["Ensure this value is greater than or equal to 0."]},
                ),
            ),
            **_STAFF_ERRORS,
            409: error_response("The Idempotency-Key was used for another body.", _KEY_REUSED),
        },
        examples=[
            OpenApiExample("Count", value={"quantity": 100, "reason": "count"}, request_only=True),
            OpenApiExample(
                "Recorded",
                value={
                    **_MOVEMENT,
                    "delta": -44,
                    "quantity_after": 100,
                    "reason": "count",
                    "reference": "",
                },
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def put(self, request: Request, store_id: int, product_id: int) -> Response:
        _staff_of_store(request, store_id)
        data = validated(self.InputSerializer, request.data)
        write = stock_set(
            store_id=store_id,
            product_id=product_id,
            quantity=data["quantity"],
            reason=data["reason"],
            reference=data["reference"],
            user=request.user,
            idempotency_key=idempotency.idempotency_key(request),
        )
        return _movement_response(write, 200)


@extend_schema_serializer(component_name="StockBulkLine")
class BulkLineInputSerializer(serializers.Serializer):
    """One line of a bulk: `quantity` to set (mode `set`) or `delta` to add (mode `adjust`)."""

    product_id = StrictIntegerField(min_value=1, max_value=MAX_ID)
    quantity = StrictIntegerField(required=False, min_value=0, max_value=MAX_QUANTITY)
    delta = StrictIntegerField(required=False, min_value=-MAX_QUANTITY, max_value=MAX_QUANTITY)


class BulkLinesField(serializers.ListField):
    """The lines of a bulk, each a BulkLineInputSerializer. Lines that are plainly valid (JSON
    integers in range, nothing else) are taken in one loop: a nested serializer per line cost
    ~60 us, 0.6 s for 10,000 lines. Any other line sends the whole list through DRF, for its
    exact errors."""

    _RANGES: ClassVar[dict[str, tuple[int, int]]] = {
        "product_id": (1, MAX_ID),
        "quantity": (0, MAX_QUANTITY),
        "delta": (-MAX_QUANTITY, MAX_QUANTITY),
    }

    def run_child_validation(self, data: list[Any]) -> list[Any]:
        lines = [self._plain_line(item) for item in data]
        if None in lines:
            return super().run_child_validation(data)
        return lines

    def _plain_line(self, item: object) -> dict[str, int] | None:
        if (
            type(item) is not dict
            or "product_id" not in item
            or not item.keys() <= self._RANGES.keys()
        ):
            return None
        for name, value in item.items():
            low, high = self._RANGES[name]
            if type(value) is not int or not low <= value <= high:
                return None
        return item


class StockBulkApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="StockBulkInput")
    class InputSerializer(serializers.Serializer):
        mode = serializers.ChoiceField(choices=[mode.value for mode in BulkMode])
        reason = serializers.ChoiceField(choices=_ADJUST_REASONS + _SET_REASONS)
        reference = _REFERENCE
        lines = BulkLinesField(
            child=BulkLineInputSerializer(),
            allow_empty=False,
            min_length=1,  # for the schema (minItems); allow_empty=False gives the error
            max_length=BULK_MAX_LINES,
        )

        def validate(self, data: dict[str, Any]) -> dict[str, Any]:
            setting = data["mode"] == BulkMode.SET
            field, other = ("quantity", "delta") if setting else ("delta", "quantity")
            reasons = _SET_REASONS if setting else _ADJUST_REASONS
            if data["reason"] not in reasons:
                choices = ", ".join(reasons)
                raise ValidationError({"reason": [f"Mode {data['mode']} takes {choices}."]})
            # A line of the other mode's shape is refused, not half read.
            wrong = {
                str(index): {field: [f"Mode {data['mode']} takes a {field} on every line."]}
                if field not in line
                else {other: [f"Mode {data['mode']} takes no {other}."]}
                for index, line in enumerate(data["lines"])
                if field not in line or other in line
            }
            if wrong:
                raise ValidationError({"lines": wrong})
            return data

    @extend_schema_serializer(component_name="StockBulkResult")
    class OutputSerializer(serializers.Serializer):
        mode = serializers.ChoiceField(choices=[mode.value for mode in BulkMode])
        lines = serializers.IntegerField(help_text="Lines applied, each with its movement.")
        changed = serializers.IntegerField(help_text="Stock rows whose quantity changed.")

    @extend_schema(
        operation_id="store_stock_bulk",
        tags=["stores"],
        summary="Set or adjust many products at once, all or nothing (staff or a superuser)",
        description=(
            f"Up to {BULK_MAX_LINES:,} lines, distinct products. `set`: each `quantity` "
            "becomes the stock (reason `count` or `correction`); `adjust`: each `delta` is "
            "added (reason `restock`, `correction`, `damage` or `return`). Every line writes a "
            "movement (a `set` that changes nothing too); `changed` counts the rows whose "
            "quantity changed. Any failing line: 400 or 409 naming the lines, nothing written. "
            "Send an `Idempotency-Key` to retry safely."
        ),
        request=InputSerializer,
        parameters=[idempotency.KEY_PARAMETER],
        responses={
            200: OutputSerializer,
            400: error_response(
                "Invalid input, naming the lines.",
                error_example(
                    "Unknown product",
                    "invalid",
                    "The request is invalid.",
                    {"lines": {"2": {"product_id": ["Product 99999 does not exist."]}}},
                ),
            ),
            **_STAFF_ERRORS,
            409: error_response(
                "Lines an adjust would take below 0, with their stock (nothing written), or the "
                "Idempotency-Key was used for another body.",
                error_example(
                    "Not enough stock",
                    "insufficient_stock",
                    InsufficientStock.default_detail,
                    {"lines": {"1": {"product_id": 590, "available": 2}}},
                ),
                _KEY_REUSED,
            ),
        },
        examples=[
            OpenApiExample(
                "Warehouse sync",
                value={
                    "mode": "set",
                    "reason": "count",
                    "reference": "WMS sync 2026-01-01",
                    "lines": [
                        {"product_id": 589, "quantity": 120},
                        {"product_id": 590, "quantity": 0},
                    ],
                },
                request_only=True,
            ),
            OpenApiExample(
                "Applied",
                value={"mode": "set", "lines": 2, "changed": 2},
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def post(self, request: Request, store_id: int) -> Response:
        _staff_of_store(request, store_id)
        data = validated(self.InputSerializer, request.data)
        mode = BulkMode(data["mode"])
        field = "quantity" if mode == BulkMode.SET else "delta"
        write = stock_bulk(
            store_id=store_id,
            mode=mode,
            reason=data["reason"],
            lines=[StockLine(line["product_id"], line[field]) for line in data["lines"]],
            reference=data["reference"],
            user=request.user,
            idempotency_key=idempotency.idempotency_key(request),
        )
        headers = idempotency.REPLAYED_HEADERS if write.replayed else None
        body = {"mode": mode, "lines": write.lines, "changed": write.changed}
        return Response(rendered(self.OutputSerializer, body), headers=headers)


class MovementPagination(KeysetPagination):
    # movement_list's order: stockmovement_row_newest_idx after the store and product.
    ordering = ("-id",)


class StockMovementListApi(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = MovementOutputSerializer
    pagination_class = MovementPagination

    def get_queryset(self) -> QuerySet[StockMovement]:
        return movement_list(store_id=self.kwargs["store_id"], product_id=self.kwargs["product_id"])

    @extend_schema(
        operation_id="store_stock_movements",
        tags=["stores"],
        summary="The ledger of a product's stock in a store, newest first (staff or superuser)",
        responses={
            200: MovementOutputSerializer(many=True),
            400: KEYSET_PAGING_ERROR,
            **_STAFF_ERRORS,
        },
        examples=[OpenApiExample("Newest first", value=_MOVEMENT, response_only=True)],
    )
    def get(self, request: Request, store_id: int, product_id: int) -> Response:
        _staff_of_store(request, store_id)
        return self.list(request)
