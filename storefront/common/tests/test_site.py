"""Site-wide behaviour: JSON errors for unknown URLs, the OpenAPI schema."""

import pytest


@pytest.mark.django_db
def test_unknown_url_is_a_json_404(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


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
        # Anonymous or with a token (the order is then the user's).
        "POST /orders/": [{}, *token],
        "GET /orders/{order_id}/": token,
        "POST /orders/{order_id}/cancel/": token,
        "GET /stores/{store_id}/orders/": token,
    }
    schemes = client.get("/api/schema/?format=json").json()["components"]["securitySchemes"]
    assert set(schemes) == {"tokenAuth"}
