"""Bench-only prototypes of the fixes proposed in bench/README.md, mounted by bench/floor_urls.py.

They exist to measure a proposed change under the same load before anyone touches the app;
they are not part of the API. Same request and response shapes as the real endpoints.

POST /bench/proto/orders/  order_place with the shortest possible row-lock window:
    everything that does not need the stock (validation, prices and titles, the order and item
    rows) happens before the inventory rows are locked; then one SELECT ... FOR UPDATE (product
    id order, as today), one UPDATE for all lines, the outbox row, COMMIT. A rejected order is
    marked REJECTED with its shortfalls instead. The response is built from the objects in
    memory instead of reading the order back (3 queries).

POST /bench/proto/orders-1rt-outbox/  the same, without the per-order Celery publish: the
    outbox rows are left for a batching drain (what that costs is not measured here).

POST /bench/proto/orders-1rt/  the same transaction in one round trip: bench/prototypes.sql's
    bench_order_place() (PL/pgSQL) locks, checks, decrements and writes order, items and outbox
    row inside one autocommit statement and returns the rendered order, so the rows are never
    locked while Python runs. The email task is published after it, as today.

GET /bench/proto/search/  product search whose cache hit costs one Redis GET and, with
    store_id, one indexed SQL query for the live quantities: the whole page body (minus
    store_quantity) is cached under the raw query string, so a hit needs neither parameter
    validation queries (category, store) nor the product rows; the catalog version is
    re-read from Redis at most once a second per process. A miss runs the real view.
"""

import hashlib
import time
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.http import HttpResponse
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from storefront.catalog.models import Product
from storefront.notifications.services import order_email_create, order_email_enqueue
from storefront.orders.api import OrderOutputSerializer, OrderPlaceApi
from storefront.orders.models import Order, OrderItem
from storefront.orders.services import OrderLine, _merge_lines
from storefront.search.api import ProductSearchApi
from storefront.search.cache import catalog_version
from storefront.stores.selectors import store_exists

LOCK_STOCK = (
    "SELECT product_id, quantity FROM stores_inventory "
    "WHERE store_id = %s AND product_id = ANY(%s) ORDER BY product_id FOR UPDATE"
)
TAKE_STOCK = (
    "UPDATE stores_inventory AS i SET quantity = i.quantity - w.quantity, updated_at = now() "
    "FROM unnest(%s::bigint[], %s::integer[]) AS w(product_id, quantity) "
    "WHERE i.store_id = %s AND i.product_id = w.product_id"
)


def order_place_lock_last(*, store_id: int, items: list[OrderLine], email: str, placed_by) -> Order:
    wanted = _merge_lines(items)
    with transaction.atomic(durable=True):
        products = Product.objects.only("id", "title", "price").in_bulk(list(wanted))
        unknown = {
            i: {"product_id": [f"Product {line.product_id} does not exist."]}
            for i, line in enumerate(items)
            if line.product_id not in products
        }
        if unknown:
            raise ValidationError({"items": unknown})
        if not store_exists(store_id=store_id):
            raise NotFound(f"Store {store_id} does not exist.")
        order = Order.objects.create(
            store_id=store_id, status=Order.Status.CONFIRMED, email=email, placed_by=placed_by
        )
        lines = OrderItem.objects.bulk_create(
            OrderItem(order=order, product=products[p], quantity=q, unit_price=products[p].price)
            for p, q in wanted.items()
        )
        # The row-lock window starts here and ends at COMMIT.
        with connection.cursor() as cursor:
            cursor.execute(LOCK_STOCK, [store_id, list(wanted)])
            stock = dict(cursor.fetchall())
            shortfalls = {p: max(0, q - stock.get(p, 0)) for p, q in wanted.items()}
            if any(shortfalls.values()):
                order.status = Order.Status.REJECTED
                Order.objects.filter(pk=order.pk).update(status=order.status)
                for line in lines:
                    line.shortfall = shortfalls[line.product_id]
                OrderItem.objects.bulk_update([x for x in lines if x.shortfall], ["shortfall"])
            else:
                cursor.execute(TAKE_STOCK, [list(wanted), list(wanted.values()), store_id])
                order_email_create(order=order)
    order._prefetched_objects_cache = {"items": _as_queryset(lines)}
    return order


def _as_queryset(lines: list[OrderItem]):
    """A prefetched-looking result, so the serializer's items.all does not query again."""
    queryset = OrderItem.objects.none()
    queryset._result_cache = lines
    queryset._prefetch_done = True
    return queryset


class PrototypeOrderPlaceApi(APIView):
    def post(self, request: Request) -> Response:
        serializer = OrderPlaceApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = order_place_lock_last(
            store_id=data["store"],
            items=[OrderLine(**line) for line in data["items"]],
            email=data["email"],
            placed_by=request.user if request.user.is_authenticated else None,
        )
        return Response(OrderOutputSerializer(order).data, status=201)


ONE_TRIP = (
    "SELECT r - 'outbox_id', (r ->> 'outbox_id')::bigint "
    "FROM bench_order_place(%s, %s::bigint[], %s::integer[], %s) AS r"
)


class PrototypeOneTripOrderApi(APIView):
    # False: leave the outbox row to a batching drain instead of one Celery task per order.
    publish = True

    def post(self, request: Request) -> HttpResponse:
        serializer = OrderPlaceApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        wanted = _merge_lines([OrderLine(**line) for line in data["items"]])
        try:
            with connection.cursor() as cursor:  # autocommit: the statement is the transaction
                cursor.execute(
                    ONE_TRIP, [data["store"], list(wanted), list(wanted.values()), data["email"]]
                )
                body, outbox_id = cursor.fetchone()
        except ProgrammingError as exc:  # P0002 raised by the function
            raise ValidationError({"items": ["Unknown product."]}) from exc
        except IntegrityError as exc:  # the deferred store foreign key, checked at commit
            raise NotFound(f"Store {data['store']} does not exist.") from exc
        if outbox_id is not None and self.publish:
            order_email_enqueue(order_email_id=outbox_id)
        return HttpResponse(body, content_type="application/json", status=201)


LIVE_QUANTITIES = (
    "SELECT product_id, quantity FROM stores_inventory WHERE store_id = %s AND product_id = ANY(%s)"
)
_version: dict[str, float] = {"at": 0.0, "value": 0}


def _catalog_version_recent() -> int:
    """catalog_version(), re-read at most once a second: a catalog edit shows within 1 s."""
    now = time.monotonic()
    if now - _version["at"] > 1.0:
        _version.update(at=now, value=catalog_version())
    return int(_version["value"])


class PrototypeSearchApi(APIView):
    def get(self, request: Request) -> Response:
        params = request.query_params
        if "in_stock" in params:  # stock filters are never cached, as in the real view
            return ProductSearchApi.as_view()(request._request)
        canonical = urlencode(sorted(params.lists()), doseq=True)
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        key = f"bench-proto:search:v{_catalog_version_recent()}:{digest}"
        body = cache.get(key)
        if body is None:
            response = ProductSearchApi.as_view()(request._request)
            if response.status_code != 200:
                return response
            body = dict(response.data)
            body["results"] = [
                {k: v for k, v in row.items() if k != "store_quantity"} for row in body["results"]
            ]
            cache.set(key, body, timeout=settings.SEARCH_CACHE_TTL)
        store_id = params.get("store_id")
        if store_id:  # valid: only a request that passed validation was cached
            with connection.cursor() as cursor:
                cursor.execute(LIVE_QUANTITIES, [int(store_id), [r["id"] for r in body["results"]]])
                live = dict(cursor.fetchall())
            body["results"] = [
                {**row, "store_quantity": live.get(row["id"], 0)} for row in body["results"]
            ]
        return Response(body)
