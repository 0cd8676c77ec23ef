"""Request ids on responses and log lines, CORS for browser clients, and the root URL.

That a worker's log line for an order carries the id of the request that placed it is tested
against a real gunicorn and Celery worker in tests/test_observability.py.
"""

import io
import json
import logging
from collections.abc import Iterator

import pytest
from django.test import override_settings

from storefront.common.logging import JsonFormatter


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the configured stdout handler (settings.LOGGING) writes, one JSON object a line."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler) and isinstance(h.formatter, JsonFormatter)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.django_db
def test_a_client_id_is_returned_and_on_the_request_log_line(client, log_lines):
    response = client.get("/stores/999999/inventory/", headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 404
    assert response["X-Request-ID"] == "abc-123"
    (line,) = [r for r in records(log_lines) if r["logger"] == "storefront.request"]
    assert line["request_id"] == "abc-123"
    assert line["status"] == 404


@pytest.mark.parametrize("sent", [None, "", "has space", "x" * 201, "caf\u00e9"])
def test_a_missing_or_unusable_id_is_replaced_by_a_new_one(client, sent):
    headers = {} if sent is None else {"X-Request-ID": sent}
    first = client.get("/healthz", headers=headers)["X-Request-ID"]
    second = client.get("/healthz", headers=headers)["X-Request-ID"]
    assert first != second
    assert len(first) == 32 and first.isalnum()


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), [("get", "/no/such/page/"), ("delete", "/orders/")])
def test_every_response_carries_an_id_errors_too(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code in {404, 405}
    assert response["X-Request-ID"]


def test_lines_logged_outside_a_request_have_no_id(log_lines):
    logging.getLogger("storefront.test").warning("no request here")
    (line,) = records(log_lines)
    assert "request_id" not in line


@override_settings(CORS_ALLOWED_ORIGINS=["https://shop.example"])
def test_cors_lets_a_browser_send_and_read_the_api_headers(client):
    preflight = client.options(
        "/orders/",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, idempotency-key, x-request-id",
        },
    )
    assert preflight.status_code == 200
    allowed = {h.strip() for h in preflight["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "idempotency-key", "x-request-id"} <= allowed

    response = client.get("/healthz", headers={"Origin": "https://shop.example"})
    assert response["Access-Control-Allow-Origin"] == "https://shop.example"
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert exposed == {
        "retry-after",
        "idempotent-replayed",
        "x-request-id",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
    }


def test_cors_answers_no_other_origin(client):
    response = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response


def test_the_root_points_to_the_docs_and_the_health_endpoints(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.json() == {
        "name": "Storefront API",
        "docs": "http://testserver/api/docs/",
        "schema": "http://testserver/api/schema/",
        "health": "http://testserver/healthz",
        "ready": "http://testserver/readyz",
    }
