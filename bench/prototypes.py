"""PROTOTYPES, bench-only: fixes proposed in bench/README.md that the app has NOT adopted.

Mounted by bench/floor_urls.py (never by the app's URLconf) to measure a proposed change under
the same load as the real endpoint before anyone touches the app. Same request and response
fields as POST /orders/ (another key order). Prototypes that the app has since adopted (lock
last + one UPDATE + answer from memory; the whole-page search cache) were removed: the real
endpoints now measure them.

POST /bench/proto/orders-1rt/  the order transaction in one round trip: bench/prototypes.sql's
    bench_order_place() (PL/pgSQL) locks, checks, decrements and writes order (with totals),
    items and outbox row inside one autocommit statement and returns the rendered order, so
    the rows are never locked while Python runs. The email task is published after it, as the
    app does.

POST /bench/proto/orders-1rt-outbox/  the same without the per-order Celery publish: the outbox
    rows are left for a batching drain (one task sending many emails). The drain itself is not
    prototyped: the bench marks these rows SKIPPED afterwards.
"""

from django.db import IntegrityError, ProgrammingError, connection
from django.http import HttpResponse
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

from storefront.notifications.services import order_email_enqueue
from storefront.orders.api import OrderPlaceApi
from storefront.orders.services import OrderLine, _merge_lines

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
