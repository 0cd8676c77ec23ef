"""Metrics and request ids on real processes: gunicorn with two workers, a Celery worker.

- /metrics counts the requests of both workers exactly, whichever worker answers the scrape.
- The id of the request that places an order is on the worker's log line for its email.
"""

import json
import re
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.live import app_env, wait_until

pytestmark = pytest.mark.slow

TOKEN = "live-metrics-token"
REQUESTS = "storefront_http_request_duration_seconds_count"


def _scrape(url: str) -> dict[tuple[str, frozenset], float]:
    response = requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_metrics_add_up_two_workers_and_a_request_id_follows_an_order_to_its_email(
    fresh_database, redis_server, start_gunicorn, start_worker, workdir: Path
):
    database = fresh_database("observability")
    redis = redis_server()
    metrics_dir = workdir / "metrics"
    env = app_env(
        database_url=database.url,
        redis_url=redis.url(0),
        workdir=workdir,
        METRICS_TOKEN=TOKEN,
        SUGGEST_RATE_LIMIT="3",
        ORDER_EMAIL_BATCH_WINDOW_MS="0",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(workdir / "observability-mail"),
        LOG_LEVEL="INFO",
    )
    server = start_gunicorn({**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}, workers=2)
    worker = start_worker(env)
    url = server.base_url
    product_id, stock = database.rows(
        "SELECT product_id, quantity FROM stores_inventory WHERE store_id = 1 AND quantity > 0 "
        "ORDER BY product_id LIMIT 1"
    )[0]

    placed = requests.post(
        f"{url}/orders/",
        json={
            "store": 1,
            "items": [{"product_id": product_id, "quantity": 1}],
            "email": "ann@example.com",
        },
        headers={"X-Request-ID": "trace-order-1"},
        timeout=30,
    )
    assert placed.status_code == 201 and placed.json()["status"] == "CONFIRMED"
    assert placed.headers["X-Request-ID"] == "trace-order-1"
    order_id = placed.json()["id"]
    rejected = requests.post(
        f"{url}/orders/",
        json={"store": 1, "items": [{"product_id": product_id, "quantity": stock + 1}]},
        timeout=30,
    )
    assert rejected.json()["status"] == "REJECTED"

    def email_line() -> dict | None:
        return next(
            (
                line
                for line in _json_lines(worker.output())
                if line.get("event") == "order_email" and line.get("order_id") == order_id
            ),
            None,
        )

    line = wait_until(email_line, timeout=60, what="the worker's log line for the email")
    assert line["status"] == "SENT"
    assert line["request_id"] == "trace-order-1"

    # One connection each, so that the kernel spreads them over both workers' sockets.
    for _ in range(40):
        assert requests.get(f"{url}/", timeout=10).status_code == 200
    suggests = [
        requests.get(f"{url}/api/search/suggest/?q=pro", timeout=10).status_code for _ in range(5)
    ]
    assert suggests == [200, 200, 200, 429, 429]

    # Both workers recorded requests (one file per process) ...
    pids = {re.search(r"_(\d+)\.db$", p.name).group(1) for p in metrics_dir.glob("histogram_*")}
    assert len(pids) == 2
    # ... and every scrape, whichever worker answers it, counts the requests of both.
    suggest = "/api/search/suggest/"
    for _ in range(6):
        samples = _scrape(url)

        def value(name: str, samples=samples, **labels: str) -> float:
            return samples.get((name, frozenset(labels.items())), 0.0)

        assert value(REQUESTS, view="/", method="GET", status="200") == 40
        assert value(REQUESTS, view="/orders/", method="POST", status="201") == 2
        assert value(REQUESTS, view=suggest, method="GET", status="200") == 3
        assert value(REQUESTS, view=suggest, method="GET", status="429") == 2
        assert value("storefront_http_throttled_requests_total", view=suggest) == 2
        assert value("storefront_orders", status="confirmed") == 1
        assert value("storefront_orders", status="rejected") == 1
        assert value("storefront_order_emails", status="sent") == 1
        assert value("storefront_order_emails", status="pending") == 0
        assert value("storefront_db_query_duration_seconds_count", alias="default") > 0
        assert value("storefront_cache_operation_duration_seconds_count", operation="get") > 0
