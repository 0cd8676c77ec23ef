"""Site-wide behaviour: one JSON error shape whatever DEBUG says, the OpenAPI schema."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

# Both modes: with DEBUG on, Django's own answers are its HTML debug pages.
debug_on_and_off = pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])


def assert_error_shape(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code


@debug_on_and_off
@pytest.mark.django_db
def test_unknown_url_is_a_json_404(client, debug):
    with override_settings(DEBUG=debug):
        # What a browser sends: Django's debug page would be chosen for it.
        response = client.get("/no/such/page/", headers={"Accept": "text/html"})

    assert_error_shape(response, 404, "not_found")


@debug_on_and_off
@pytest.mark.django_db
@pytest.mark.urls("storefront.common.tests.failing_urls")
@pytest.mark.parametrize("path", ["/healthz", "/get-only/"], ids=["api-view", "django-view"])
def test_a_method_the_url_does_not_allow_is_a_json_405(client, debug, path):
    with override_settings(DEBUG=debug):
        response = client.put(path)

    assert_error_shape(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


@debug_on_and_off
@pytest.mark.django_db
@pytest.mark.urls("storefront.common.tests.failing_urls")
def test_an_unhandled_exception_is_a_json_500(debug):
    client = Client(raise_request_exception=False)
    with override_settings(DEBUG=debug):
        response = client.get("/broken/", headers={"Accept": "text/html"})

    assert_error_shape(response, 500, "server_error")
    assert b"a bug" not in response.content


@debug_on_and_off
def test_a_host_not_in_allowed_hosts_is_a_json_400_that_names_the_setting(client, debug):
    with override_settings(DEBUG=debug):
        response = client.get("/healthz", headers={"Host": "203.0.113.7:8000"})

    assert_error_shape(response, 400, "disallowed_host")
    assert response.json()["error"]["message"] == (
        "Host '203.0.113.7:8000' is not in this server's ALLOWED_HOSTS."
    )


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_the_admin_still_answers_html_errors_with_debug_on(client):
    admin = get_user_model().objects.create_superuser("site-admin", password="x")
    client.force_login(admin)

    response = client.get("/admin/no-such-app/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_openapi_schema_is_served(client, db):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Storefront API"


def operations(client) -> list[tuple[str, str, dict]]:
    schema = client.get("/api/schema/?format=json").json()
    return [
        (method.upper(), path, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]


@pytest.mark.django_db
def test_every_operation_has_request_and_response_examples_errors_included(client):
    found = operations(client)
    assert len(found) >= 11
    missing = []
    for method, path, operation in found:
        body = operation.get("requestBody", {}).get("content", {})
        if body and not body.get("application/json", {}).get("examples"):
            missing.append(f"{method} {path} request")
        for status, response in operation["responses"].items():
            for media_type, content in response.get("content", {}).items():
                if not content.get("examples"):
                    missing.append(f"{method} {path} {status} {media_type}")
    assert missing == []


@pytest.mark.django_db
def test_security_is_stated_as_the_api_works(client):
    security = {
        f"{method} {path}": operation.get("security")
        for method, path, operation in operations(client)
    }
    token: list[dict[str, list[str]]] = [{"tokenAuth": []}]
    assert security == {
        "GET /": None,
        "GET /healthz": None,
        "GET /readyz": None,
        "POST /api/auth/token/": None,
        "GET /api/search/products/": None,
        "GET /api/search/suggest/": None,
        "GET /stores/{store_id}/inventory/": None,
        "GET /stores/": None,
        "GET /stores/{store_id}/": None,
        "GET /api/catalog/products/{product_id}/": None,
        "GET /api/catalog/categories/": None,
        "POST /api/catalog/products/": token,
        "PATCH /api/catalog/products/{product_id}/": token,
        "DELETE /api/catalog/products/{product_id}/": token,
        "POST /api/catalog/categories/": token,
        # Anonymous or with a token (the order is then the user's).
        "POST /orders/": [{}, *token],
        "GET /orders/": token,
        "GET /orders/{order_id}/": token,
        "POST /orders/{order_id}/cancel/": token,
        "GET /stores/{store_id}/orders/": token,
        "POST /stores/{store_id}/inventory/adjustments/": token,
        "PUT /stores/{store_id}/inventory/{product_id}/": token,
        "POST /stores/{store_id}/inventory/bulk/": token,
        "GET /stores/{store_id}/inventory/{product_id}/movements/": token,
    }
    schemes = client.get("/api/schema/?format=json").json()["components"]["securitySchemes"]
    assert set(schemes) == {"tokenAuth"}
