"""The search and suggest views write their JSON themselves (no DRF renderer on the hot path);
clients must not be able to tell: same bytes, same headers, same content negotiation."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.authentication import BasicAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from storefront.search.api import ProductSearchApi

SEARCH = reverse("search-products")
SUGGEST = reverse("search-suggest")


@pytest.fixture
def odd_titles(catalog_factory):
    """Non-ASCII and the two line separators JSONRenderer escapes for JavaScript."""
    store = catalog_factory.store("A")
    product = catalog_factory.product("Pro Café \u2028 Line \u2029 Para", price="12.50")
    catalog_factory.stock(store, product, 4)
    return store


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (SEARCH, {"q": "pro"}),
        (SEARCH, {"q": "pro", "page_size": 1}),
        (SEARCH, {"q": "pro", "store_id": None}),
        (SUGGEST, {"q": "pro"}),
    ],
)
def test_bytes_and_headers_are_drfs_on_miss_and_hit(api_client, odd_titles, path, params):
    params = {k: (odd_titles.pk if v is None else v) for k, v in params.items()}
    for _ in range(2):  # the second request is a cache hit
        response = api_client.get(path, params)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response.content == JSONRenderer().render(json.loads(response.content))
        assert b"\\u2028" in response.content and "Café".encode() in response.content
        assert response["Allow"] == "GET, HEAD, OPTIONS"


def test_pretty_printing_still_negotiated(api_client, odd_titles):
    for _ in range(2):
        response = api_client.get(SEARCH, {"q": "pro"}, HTTP_ACCEPT="application/json; indent=4")
        assert response.status_code == 200
        assert response.content.startswith(b'{\n    "page": 1')


def test_unacceptable_media_type_is_still_a_406(api_client, odd_titles):
    for path in (SEARCH, SUGGEST):
        response = api_client.get(path, {"q": "pro"}, HTTP_ACCEPT="text/csv")
        assert response.status_code == 406


@pytest.fixture
def drf_runs(monkeypatch) -> list[str]:
    """The paths of the requests DRF's request handling ran for (it still runs)."""
    paths: list[str] = []
    initial = APIView.initial

    def recorded(view, request, *args, **kwargs):
        paths.append(request.path)
        return initial(view, request, *args, **kwargs)

    monkeypatch.setattr(APIView, "initial", recorded)
    return paths


@pytest.mark.parametrize(
    ("path", "params"),
    [(SEARCH, {"q": "pro"}), (SEARCH, {"q": "pro", "store_id": None}), (SUGGEST, {"q": "pro"})],
)
def test_a_hit_answered_before_drf_is_drfs_answer(api_client, odd_titles, drf_runs, path, params):
    """An anonymous hit asking for JSON skips DRF; with an Accept header DRF must negotiate, the
    same request goes through DRF: the client cannot tell the difference."""
    params = {k: (odd_titles.pk if v is None else v) for k, v in params.items()}
    api_client.get(path, params)  # miss: cached
    drf_runs.clear()
    early = api_client.get(path, params)
    assert drf_runs == []
    through_drf = api_client.get(path, params, HTTP_ACCEPT="application/json, */*")
    assert drf_runs == [path]
    assert early.status_code == through_drf.status_code == 200
    assert early.content == through_drf.content
    assert early.headers == through_drf.headers


def test_a_token_or_session_user_goes_through_drf(api_client, odd_titles, drf_runs):
    user = get_user_model().objects.create_user("shopper", password="x")
    api_client.get(SEARCH, {"q": "pro"})  # miss: cached
    drf_runs.clear()
    token = Token.objects.create(user=user)
    api_client.get(SEARCH, {"q": "pro"}, HTTP_AUTHORIZATION=f"Token {token.key}")
    api_client.login(username="shopper", password="x")
    api_client.get(SEARCH, {"q": "pro"})
    assert drf_runs == [SEARCH, SEARCH]


@pytest.mark.parametrize("path", [SEARCH, SUGGEST])
def test_credentials_are_still_checked_on_a_hit(api_client, odd_titles, path):
    assert api_client.get(path, {"q": "pro"}).status_code == 200  # now cached
    response = api_client.get(path, {"q": "pro"}, HTTP_AUTHORIZATION="Token not-a-token")
    assert response.status_code == 401


def test_a_request_naming_an_unknown_format_is_not_counted(api_client, odd_titles, settings):
    """DRF refuses `?format=xml` before its throttle check; the early answer must not count it
    either, however the name is spelt."""
    settings.SUGGEST_RATE_LIMIT = 1
    for query in ("q=pro&format=xml", "q=pro&form%61t=xml"):
        assert api_client.get(f"{SUGGEST}?{query}").status_code == 404
    assert api_client.get(SUGGEST, {"q": "pro"}).status_code == 200


@pytest.mark.parametrize(
    "setting",
    [
        {"permission_classes": [IsAuthenticated]},
        {"throttle_classes": [AnonRateThrottle]},
        {"authentication_classes": [BasicAuthentication]},
        {"renderer_classes": [BrowsableAPIRenderer, JSONRenderer]},
    ],
)
def test_a_view_whose_drf_handling_matters_never_answers_before_it(
    api_client, odd_titles, drf_runs, setting
):
    api_client.get(SEARCH, {"q": "pro"})  # cached
    drf_runs.clear()
    view = type("RestrictedSearch", (ProductSearchApi,), setting).as_view()
    request = RequestFactory().get(SEARCH, {"q": "pro"})
    request.user = AnonymousUser()
    view(request)
    assert drf_runs == [SEARCH]
