"""Search and suggest answers go through DRF's negotiation and renderers, cache hits too."""

from decimal import Decimal

import pytest
from django.urls import reverse

from storefront.search import api

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


def test_the_shared_serializers_render_as_fresh_ones():
    """The views reuse one serializer instance each (api.SEARCH_PAGE, api.SUGGESTION_LIST)."""
    rows = [
        {"id": 1, "title": "Pro", "price": Decimal("5"), "category": "Home", "store_quantity": 3},
        {
            "id": 2,
            "title": "Café",
            "price": Decimal("7.5"),
            "category": "Home",
            "store_quantity": 0,
        },
    ]
    page = {
        "count": 2, "count_exact": True, "page": 1, "page_size": 20, "has_next": False,
        "next": None, "previous": None, "fuzzy": False, "results": rows, "facets_exact": True,
        "facets": {
            "category": [{"id": 3, "name": "Home", "count": 2}],
            "price": {"min": "5.00", "max": "7.50",
                      "buckets": [{"from": "5", "to": "6", "count": 1},
                                  {"from": "6", "to": "7", "count": 0},
                                  {"from": "7", "to": "8", "count": 1}]},
        },
    }  # fmt: skip
    bodies: list[dict] = [page, {**page, "results": [], "facets": {"category": []}}]
    for body in bodies:
        assert api.SEARCH_PAGE.to_representation(body) == (
            api.ProductSearchPageSerializer(body).data
        )
    listing = {"results": rows}
    assert api.SUGGESTION_LIST.to_representation(listing) == (
        api.SuggestionListSerializer(listing).data
    )
