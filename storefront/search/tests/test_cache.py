"""Repeated searches come from the cache; stock never does."""

import logging

import pytest
import redis
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_redis import get_redis_connection
from rest_framework.utils.urls import replace_query_param

from storefront.inventory.models import Inventory
from storefront.stores.models import Store

SEARCH = reverse("search-products")
SUGGEST = reverse("search-suggest")


def get_json(api_client, url, params) -> dict:
    response = api_client.get(url, params)
    assert response.status_code == 200, response.content
    return response.json()


def searched_products(queries: CaptureQueriesContext) -> bool:
    """Whether any captured query ran a search (rather than only reading a page's rows)."""
    return any(
        "search_products" in query["sql"] or "search_suggest" in query["sql"]
        for query in queries.captured_queries
    )


def sql_of(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in queries.captured_queries]


@pytest.fixture
def store(catalog_factory, search_catalog):
    store = catalog_factory.store()
    catalog_factory.stock(store, search_catalog["exact"], 5)
    catalog_factory.stock(store, search_catalog["prefix"], 1)
    return store


def test_identical_search_is_served_from_cache(api_client, search_catalog):
    with CaptureQueriesContext(connection) as first:
        first_body = get_json(api_client, SEARCH, {"q": "pro"})
    with CaptureQueriesContext(connection) as second:
        second_body = get_json(api_client, SEARCH, {"q": "pro"})
    assert second_body == first_body
    assert searched_products(first)
    # One query: the page's rows, read live with the catalog version.
    assert [sql.split("(")[0] for sql in sql_of(second)] == ["SELECT * FROM search_rows"]


def test_cached_search_with_a_store_reads_its_rows_only(api_client, store):
    params = {"q": "pro", "store_id": store.pk}
    first_body = get_json(api_client, SEARCH, params)
    with CaptureQueriesContext(connection) as second:
        second_body = get_json(api_client, SEARCH, params)
    assert second_body == first_body
    # The rows with their stock, the store's existence and the catalog version: one query.
    assert [sql.split("(")[0] for sql in sql_of(second)] == ["SELECT * FROM search_rows"]


def test_a_new_store_is_searchable_at_once(api_client, search_catalog, catalog_factory):
    next_id = (Store.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    params = {"q": "pro", "store_id": next_id}
    assert api_client.get(SEARCH, params).status_code == 400
    store = Store.objects.create(pk=next_id, name="New Street")
    catalog_factory.stock(store, search_catalog["exact"], 4)
    assert get_json(api_client, SEARCH, params)["results"][0]["store_quantity"] == 4


def test_a_deleted_store_is_a_400_even_when_its_page_is_cached(api_client, store):
    params = {"q": "pro", "store_id": store.pk}
    get_json(api_client, SEARCH, params)
    store_id = store.pk
    store.delete()
    response = api_client.get(SEARCH, params)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"store_id": ["Unknown store."]}
    assert Store.objects.filter(pk=store_id).count() == 0


def test_store_quantity_is_present_only_with_a_store_on_hits_too(api_client, store):
    for _ in range(2):  # miss, then hit
        without = get_json(api_client, SEARCH, {"q": "pro"})["results"]
        with_store = get_json(api_client, SEARCH, {"q": "pro", "store_id": store.pk})["results"]
        assert all("store_quantity" not in row for row in without)
        assert [row["store_quantity"] for row in with_store][:2] == [5, 1]
        assert all(row["store_quantity"] == 0 for row in with_store[2:])


def test_links_follow_the_request_not_the_cached_page(api_client, catalog_factory, settings):
    settings.ALLOWED_HOSTS = ["testserver", "shop.example"]
    for index in range(3):
        catalog_factory.product(f"Pro Item {index}")
    params = {"q": "pro", "page_size": "2"}
    first = get_json(api_client, SEARCH, params)["next"]
    cached = api_client.get(SEARCH, params, HTTP_HOST="shop.example").json()["next"]
    assert first.startswith("http://testserver/")
    assert cached.startswith("http://shop.example/")
    assert "page=2" in cached


def test_links_of_a_hit_are_drfs_for_the_request(api_client, catalog_factory):
    """A hit keeps its links' query strings from the miss and puts the request's URL before
    them: the result must be what DRF's replace_query_param makes of the request URL."""
    for index in range(3):
        catalog_factory.product(f"Pro Item {index}")
    query = "utm=caf%C3%A9+x&q=pro%20item&page=2&page_size=1&q=pro"
    for _ in range(2):  # miss, then hit
        response = api_client.get(f"{SEARCH}?{query}")
        assert response.status_code == 200
        url = response.wsgi_request.build_absolute_uri()
        assert response.json()["next"] == replace_query_param(url, "page", 3)
        assert response.json()["previous"] == replace_query_param(url, "page", 1)


def test_different_parameters_are_cached_separately(api_client, search_catalog):
    get_json(api_client, SEARCH, {"q": "pro"})
    with CaptureQueriesContext(connection) as queries:
        body = get_json(api_client, SEARCH, {"q": "pro", "max_price": "30"})
    assert searched_products(queries)
    assert [item["title"] for item in body["results"]] == ["Ultra Pro Mouse"]


def test_cached_search_reads_store_quantity_live(api_client, store, search_catalog):
    params = {"q": "pro", "store_id": store.pk}
    before = get_json(api_client, SEARCH, params)
    assert before["results"][0]["store_quantity"] == 5

    Inventory.objects.filter(store=store, product=search_catalog["exact"]).update(quantity=2)
    with CaptureQueriesContext(connection) as queries:
        after = get_json(api_client, SEARCH, params)
    assert not searched_products(queries)  # still a cache hit ...
    assert after["results"][0]["store_quantity"] == 2  # ... with today's stock


def test_in_stock_search_drops_a_sold_out_product_at_once(api_client, store, search_catalog):
    params = {"q": "pro", "store_id": store.pk, "in_stock": "true"}
    assert [i["title"] for i in get_json(api_client, SEARCH, params)["results"]] == [
        "Pro",
        "Pro Laptop",
    ]
    Inventory.objects.filter(store=store, product=search_catalog["prefix"]).update(quantity=0)
    assert [i["title"] for i in get_json(api_client, SEARCH, params)["results"]] == ["Pro"]

    Inventory.objects.filter(store=store, product=search_catalog["prefix"]).update(quantity=9)
    results = get_json(api_client, SEARCH, params)["results"]
    assert [(i["title"], i["store_quantity"]) for i in results] == [("Pro", 5), ("Pro Laptop", 9)]


def test_in_stock_anywhere_is_fresh_too(api_client, store, search_catalog):
    params = {"q": "pro", "in_stock": "true"}
    assert len(get_json(api_client, SEARCH, params)["results"]) == 2
    Inventory.objects.filter(store=store).update(quantity=0)
    assert get_json(api_client, SEARCH, params)["results"] == []


def test_order_placed_through_the_service_shows_at_once(api_client, store, search_catalog):
    services = pytest.importorskip("storefront.orders.services")
    params = {"q": "pro", "store_id": store.pk}
    assert get_json(api_client, SEARCH, params)["results"][1]["store_quantity"] == 1

    services.order_place(
        store_id=store.pk,
        items=[services.OrderLine(product_id=search_catalog["prefix"].pk, quantity=1)],
        email="buyer@example.com",
    )

    laptop = get_json(api_client, SEARCH, params)["results"][1]
    assert (laptop["title"], laptop["store_quantity"]) == ("Pro Laptop", 0)
    in_stock = get_json(api_client, SEARCH, {**params, "in_stock": "true"})["results"]
    assert [item["title"] for item in in_stock] == ["Pro"]


def test_identical_suggestion_is_served_from_cache(api_client, search_catalog):
    with CaptureQueriesContext(connection) as first:
        first_body = get_json(api_client, SUGGEST, {"q": "pro"})
    with CaptureQueriesContext(connection) as second:
        second_body = get_json(api_client, SUGGEST, {"q": "pro"})
    assert second_body == first_body
    assert searched_products(first)
    assert [sql.split("(")[0] for sql in sql_of(second)] == ["SELECT * FROM search_rows"]


def test_search_keys_live_in_redis_and_hold_no_stock(api_client, store, search_catalog):
    body = get_json(api_client, SEARCH, {"q": "pro", "store_id": store.pk})
    redis = get_redis_connection()  # the cache's own client
    (key,) = redis.keys("*search:products:*")
    entry = cache.get(key.decode().split(":", 2)[2])  # without the backend's prefix
    assert entry.ids == [row["id"] for row in body["results"]]
    assert set(vars(entry)) == {
        "catalog_version", "ids", "count", "count_exact", "fuzzy", "facets", "facets_exact",
    }  # fmt: skip


@pytest.fixture
def redis_commands(monkeypatch) -> list[str]:
    """The names of the Redis commands sent from now on (they still run)."""
    sent: list[str] = []
    execute = redis.Redis.execute_command

    def recorded(client, *args, **options):
        sent.append(args[0])
        return execute(client, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", recorded)
    return sent


def test_a_cached_search_costs_one_redis_round_trip(api_client, store, redis_commands):
    params = {"q": "pro", "store_id": store.pk}
    get_json(api_client, SEARCH, params)
    redis_commands.clear()
    get_json(api_client, SEARCH, params)
    assert redis_commands == ["GET"]


def test_a_cached_suggestion_costs_the_rate_limit_and_one_read(
    api_client, search_catalog, redis_commands
):
    get_json(api_client, SUGGEST, {"q": "pro"})
    redis_commands.clear()
    get_json(api_client, SUGGEST, {"q": "pro"})
    assert redis_commands == ["EVALSHA", "GET"]  # the rate limit, then the cache: separate


def test_cache_down_degrades_to_uncached(api_client, search_catalog, settings, caplog, tmp_path):
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            # A socket in this test's own directory: nothing can listen there, whatever else
            # runs on the machine (a fixed port could be anyone's).
            "LOCATION": f"unix://{tmp_path}/nothing.sock",
        }
    }
    with caplog.at_level(logging.WARNING, logger="storefront.search.cache"):
        body = get_json(api_client, SEARCH, {"q": "pro"})
    assert [item["title"] for item in body["results"]][:2] == ["Pro", "Pro Laptop"]
    assert "search cache unavailable" in caplog.text
