"""/metrics in one process (the test client). With two gunicorn workers and a Celery worker:
tests/test_observability.py."""

import pytest
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "metrics-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def scraped(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_are_not_public_by_default(client):
    response = client.get("/metrics")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@override_settings(METRICS_TOKEN=TOKEN)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Token {TOKEN}"])
def test_metrics_need_the_token(client, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN, SUGGEST_RATE_LIMIT=1)
def test_requests_queries_cache_and_throttling_are_counted(client, catalog_factory):
    store = catalog_factory.store()
    catalog_factory.stock(store, catalog_factory.product("Pro Laptop"), 3)
    route = "/stores/<int:store_id>/inventory/"
    suggest = "/api/search/suggest/"
    before = scraped(client)

    for _ in range(3):
        assert client.get(f"/stores/{store.pk}/inventory/").status_code == 200
    assert client.get("/stores/999999/inventory/").status_code == 404
    assert client.get("/api/search/products/?q=pro").status_code == 200  # reads the cache
    assert client.get("/api/search/suggest/?q=pro").status_code == 200
    assert client.get("/api/search/suggest/?q=pro").status_code == 429
    after = scraped(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "storefront_http_request_duration_seconds_count"
    assert delta(requests, view=route, method="GET", status="200") == 3
    assert delta(requests, view=route, method="GET", status="404") == 1
    assert delta(requests, view=suggest, method="GET", status="429") == 1
    assert delta("storefront_http_throttled_requests_total", view=suggest) == 1
    assert delta("storefront_db_query_duration_seconds_count", alias="default") >= 4
    assert delta("storefront_cache_operation_duration_seconds_count", operation="get") >= 1
    # The previous scrape is counted too, under its own route.
    assert delta(requests, view="/metrics", method="GET", status="200") == 1


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_orders_and_outbox_emails_are_counted_from_the_database(client, catalog_factory):
    store = catalog_factory.store()
    product = catalog_factory.product("Pro Laptop")
    catalog_factory.stock(store, product, 5)
    for quantity in (1, 2, 100):
        body = {"store": store.pk, "items": [{"product_id": product.pk, "quantity": quantity}]}
        assert client.post("/orders/", body, content_type="application/json").status_code == 201
    body["email"] = "ann@example.com"
    body["items"][0]["quantity"] = 1
    assert client.post("/orders/", body, content_type="application/json").status_code == 201

    samples = scraped(client)
    assert value(samples, "storefront_orders", status="confirmed") == 3
    assert value(samples, "storefront_orders", status="rejected") == 1
    assert value(samples, "storefront_orders", status="cancelled") == 0
    assert value(samples, "storefront_order_emails", status="pending") == 3
    assert value(samples, "storefront_order_emails", status="sent") == 0
    assert value(samples, "storefront_order_emails", status="failed") == 0
