"""GET /metrics: Prometheus text, for the bearer of METRICS_TOKEN only (404 while it is unset).

The web processes' instruments (storefront.common.metrics) are added up over every gunicorn
worker (prometheus-client's multiprocess mode) or, in a single process, read from it. Orders and
outbox emails are counted from the database at scrape time: exact whichever process placed or
sent them, the Celery worker included.
"""

import hmac
import os
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from storefront.common.errors import error_body, json_not_found
from storefront.notifications.selectors import email_counts_by_status
from storefront.orders.selectors import order_counts_by_status


class DatabaseCounts(Collector):
    def collect(self) -> Iterator[Metric]:
        for name, documentation, counts in (
            ("storefront_orders", "Orders by status.", order_counts_by_status()),
            (
                "storefront_order_emails",
                "Confirmation emails in the outbox by status.",
                email_counts_by_status(),
            ),
        ):
            family = GaugeMetricFamily(name, documentation, labels=["status"])
            for status, count in counts.items():
                family.add_metric([status.lower()], count)
            yield family


def scrape() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry.register(MultiProcessCollector(None))
    else:
        registry.register(REGISTRY)
    registry.register(DatabaseCounts())
    return generate_latest(registry)


def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        return json_not_found(request)
    if not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
        response = JsonResponse(
            error_body("not_authenticated", "Send Authorization: Bearer <METRICS_TOKEN>."),
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(scrape(), content_type=CONTENT_TYPE_LATEST)
