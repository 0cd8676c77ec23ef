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
