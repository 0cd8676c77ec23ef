"""Search and suggest answers go through DRF's negotiation and renderers, cache hits too."""

import pytest
from django.urls import reverse

SEARCH = reverse("search-products")
SUGGEST = reverse("search-suggest")


@pytest.fixture
def odd_titles(catalog_factory):
    """Non-ASCII and the two line separators JSONRenderer escapes for JavaScript."""
    store = catalog_factory.store("A")
    product = catalog_factory.product("Pro Café \u2028 Line \u2029 Para", price="12.50")
    catalog_factory.stock(store, product, 4)
    return store


def test_pretty_printing_still_negotiated(api_client, odd_titles):
    for _ in range(2):
        response = api_client.get(SEARCH, {"q": "pro"}, HTTP_ACCEPT="application/json; indent=4")
        assert response.status_code == 200
        assert response.content.startswith(b'{\n    "count": 1')


def test_unacceptable_media_type_is_still_a_406(api_client, odd_titles):
    for path in (SEARCH, SUGGEST):
        response = api_client.get(path, {"q": "pro"}, HTTP_ACCEPT="text/csv")
        assert response.status_code == 406


@pytest.mark.parametrize("path", [SEARCH, SUGGEST])
def test_credentials_are_still_checked_on_a_hit(api_client, odd_titles, path):
    assert api_client.get(path, {"q": "pro"}).status_code == 200  # now cached
    response = api_client.get(path, {"q": "pro"}, HTTP_AUTHORIZATION="Token not-a-token")
    assert response.status_code == 401


def test_a_request_naming_an_unknown_format_is_not_counted(api_client, odd_titles, settings):
    """DRF refuses `?format=xml` before its throttle check, however the name is spelt."""
    settings.SUGGEST_RATE_LIMIT = 1
    for query in ("q=pro&format=xml", "q=pro&form%61t=xml"):
        assert api_client.get(f"{SUGGEST}?{query}").status_code == 404
    assert api_client.get(SUGGEST, {"q": "pro"}).status_code == 200
