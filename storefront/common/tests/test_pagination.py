"""The keyset listings refuse every malformed cursor or page size with a 400 naming it, before
the database sees it: the cases found by hand, then anything hypothesis makes up, on every
cursor-paged endpoint of the schema."""

import base64

import pytest
from django.contrib.auth import get_user_model
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from rest_framework.test import APIClient

from storefront.common.tests.paging_strategies import PAGING_PARAMETERS
from storefront.orders.models import Order

pytestmark = pytest.mark.django_db


def cursor_paged_paths() -> list[str]:
    """Every operation of the schema that takes a `cursor`, its path parameters left open."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        path
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        if any(parameter["name"] == "cursor" for parameter in operation.get("parameters", []))
    )


CURSOR_PAGED = cursor_paged_paths()


@pytest.fixture
def listings(catalog_factory):
    """Stores, one with stock and orders (placed by its staff), categories, and a client of that
    staff: every listing has pages."""
    store = catalog_factory.store()
    catalog_factory.store()
    counted = catalog_factory.product("Counted item")
    for index in range(3):
        catalog_factory.stock(store, counted, index)  # a movement more each time
    staff = get_user_model().objects.create_user("listing-clerk")
    store.staff.add(staff)
    for index in range(3):
        product = catalog_factory.product(f"Item {index}", category=f"Category {index}")
        catalog_factory.stock(store, product, index)
        Order.objects.create(store=store, status=Order.Status.CONFIRMED, placed_by=staff)
    client = APIClient()
    client.force_authenticate(staff)
    return client, [path.format(store_id=store.pk, product_id=counted.pk) for path in CURSOR_PAGED]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_the_listings_are_found():
    assert CURSOR_PAGED == [
        "/api/catalog/categories/",
        "/orders/",
        "/stores/",
        "/stores/{store_id}/inventory/",
        "/stores/{store_id}/inventory/{product_id}/movements/",
        "/stores/{store_id}/orders/",
    ]


@pytest.mark.parametrize(
    "cursor",
    [
        "cD0A",  # p=\0: PostgreSQL text cannot hold NUL
        b64("p=\x1f"),
        b64("p=a%00b"),
        b64("x=1"),  # unknown key
        b64("p=a&p=b"),  # a key twice
        b64("o=-1"),
        b64("o=²"),
        b64("r=2"),
        b64("p=%FF"),  # not UTF-8 once decoded
        b64("garbage"),
        "",
        "cD0",  # padding missing
        "cD0*AA==",  # outside the alphabet
        "cD1h\x00",
        "\u00e9",
    ],
)
def test_a_malformed_cursor_is_a_400_naming_it(listings, cursor):
    client, paths = listings
    for path in paths:
        response = client.get(path, {"cursor": cursor})
        assert response.status_code == 400, (path, response.content)
        assert response.json()["error"]["fields"] == {"cursor": ["Invalid cursor"]}


@pytest.mark.parametrize(
    "cursor",
    [
        b64("p=notadate"),
        b64("p=2026-13-45"),
        b64("p="),
        b64("r=1&p=abc"),
        b64("o=5&p=x"),
        b64("p=2026-01-01"),  # no time and no offset: not a position the API writes
        b64("p=2026-01-01 12:00:00"),
    ],
)
def test_a_position_that_is_no_timestamp_is_a_400_for_the_orders(listings, cursor):
    client, paths = listings
    for orders in (path for path in paths if path.endswith("/orders/")):
        response = client.get(orders, {"cursor": cursor})
        assert response.status_code == 400, response.content
        assert response.json()["error"]["fields"] == {"cursor": ["Invalid cursor"]}


@pytest.mark.parametrize(
    "page_size", ["²", "\u0661", "\uff11", "0", "00", "-1", "+5", " 5", "5 ", "", "1e3"]
)
def test_a_page_size_of_anything_but_ascii_digits_in_range_is_a_400(listings, page_size):
    client, paths = listings
    for path in paths:
        response = client.get(path, {"page_size": page_size})
        assert response.status_code == 400, (path, response.content)
        assert list(response.json()["error"]["fields"]) == ["page_size"]


@pytest.mark.parametrize(("page_size", "answered"), [("2", 2), ("002", 2), ("9" * 5000, 100)])
def test_a_page_size_is_capped_at_the_maximum(listings, page_size, answered):
    client, paths = listings
    for path in paths:
        response = client.get(path, {"page_size": page_size})
        assert response.status_code == 200, (path, response.content)
        assert response.json()["page_size"] == answered


def test_the_cursors_the_api_writes_walk_every_listing(listings):
    client, paths = listings
    for path in paths:
        first = client.get(path, {"page_size": 1}).json()
        second = client.get(first["next"]).json()
        back = client.get(second["previous"]).json()
        assert back["results"] == first["results"] != second["results"]


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(parameters=PAGING_PARAMETERS)
def test_no_paging_parameters_make_a_listing_fail(listings, parameters):
    client, paths = listings
    for path in paths:
        response = client.get(path, parameters)
        assert response.status_code in (200, 400), (path, parameters, response.content)
        if response.status_code == 400:
            assert set(response.json()["error"]["fields"]) <= {"cursor", "page_size"}
