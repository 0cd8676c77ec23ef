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

from storefront.catalog.models import Product
from storefront.inventory.models import Inventory
from storefront.search import cache as search_cache
from storefront.search.cache import CATALOG_VERSION_KEY, catalog_version
from storefront.stores.models import Store

SEARCH = reverse("search-products")
SUGGEST = reverse("search-suggest")


def get_json(api_client, url, params) -> dict:
    response = api_client.get(url, params)
    assert response.status_code == 200, response.content
    return response.json()


def searched_products(queries: CaptureQueriesContext) -> bool:
    """Whether any captured query ran the (expensive) text match over products."""
    return any("LIKE" in query["sql"] for query in queries.captured_queries)


def product_queries(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "catalog_product" in q["sql"]]


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
    assert not searched_products(second)
    assert product_queries(second) == []  # the page itself is cached; no stock was asked for


def test_cached_search_with_a_store_reads_only_its_stock(api_client, store):
    params = {"q": "pro", "store_id": store.pk, "category": "electronics"}
    first_body = get_json(api_client, SEARCH, params)
    with CaptureQueriesContext(connection) as second:
        second_body = get_json(api_client, SEARCH, params)
    assert second_body == first_body
    # One query, for the page's stock (and the store's existence): no validation queries.
    reads = [q["sql"] for q in second.captured_queries]
    assert len(reads) == 1
    assert "stores_inventory" in reads[0]
    assert "catalog_" not in reads[0]


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


def test_catalog_edit_invalidates_cached_searches(
    api_client, search_catalog, catalog_factory, django_capture_on_commit_callbacks
):
    get_json(api_client, SEARCH, {"q": "pro"})
    version = catalog_version()
    with django_capture_on_commit_callbacks(execute=True):
        catalog_factory.product("Pro Zoom Lens")
    assert catalog_version() == version + 1
    titles = [item["title"] for item in get_json(api_client, SEARCH, {"q": "pro"})["results"]]
    assert "Pro Zoom Lens" in titles


def test_identical_suggestion_is_served_from_cache(api_client, search_catalog):
    with CaptureQueriesContext(connection) as first:
        first_body = get_json(api_client, SUGGEST, {"q": "pro"})
    with CaptureQueriesContext(connection) as second:
        second_body = get_json(api_client, SUGGEST, {"q": "pro"})
    assert second_body == first_body
    assert product_queries(first)
    assert not product_queries(second)


def test_search_keys_live_in_redis(api_client, search_catalog):
    get_json(api_client, SEARCH, {"q": "pro"})
    assert cache.get(CATALOG_VERSION_KEY) is not None
    redis = get_redis_connection()  # the cache's own client
    assert redis.keys("*search:products-response:*")
    assert not redis.keys("*search:products:*")  # the one layer: no page-id entries


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


def test_a_cached_search_costs_one_redis_round_trip(api_client, store, redis_commands, settings):
    settings.SEARCH_PROCESS_CACHE_MS = 0  # no copy kept by the process
    params = {"q": "pro", "store_id": store.pk}
    get_json(api_client, SEARCH, params)
    redis_commands.clear()
    get_json(api_client, SEARCH, params)
    assert redis_commands == ["MGET"]  # the catalog version and the response


def test_a_search_read_from_redis_is_reused_by_the_process_with_live_stock(
    api_client, store, search_catalog, redis_commands
):
    params = {"q": "pro", "store_id": store.pk}
    get_json(api_client, SEARCH, params)  # computed and stored in Redis
    get_json(api_client, SEARCH, params)  # read from Redis, kept by the process
    Inventory.objects.filter(store=store, product=search_catalog["exact"]).update(quantity=3)
    redis_commands.clear()
    with CaptureQueriesContext(connection) as queries:
        body = get_json(api_client, SEARCH, params)
    assert redis_commands == []
    assert not searched_products(queries)
    assert body["results"][0]["store_quantity"] == 3  # the stock is still read live


@pytest.fixture
def process_clock(monkeypatch) -> list[float]:
    """The clock of the process's kept responses, moved by the test: now[0] += seconds."""
    now = [1000.0]
    monkeypatch.setattr(search_cache.recent_responses, "_clock", lambda: now[0])
    return now


def test_an_edit_through_another_process_shows_once_the_kept_copy_expires(
    api_client, search_catalog, settings, process_clock
):
    settings.SEARCH_PROCESS_CACHE_MS = 1000
    params = {"q": "pro"}
    get_json(api_client, SEARCH, params)
    get_json(api_client, SEARCH, params)  # now kept by this process
    # What another process's edit leaves behind: the row changed and the shared version moved,
    # but this process ran no on_commit hook, so its copies stay.
    Product.objects.filter(pk=search_catalog["exact"].pk).update(title="Pro Renamed")
    _incr_shared_catalog_version()

    process_clock[0] += 0.9
    assert get_json(api_client, SEARCH, params)["results"][0]["title"] == "Pro"
    process_clock[0] += 0.2
    titles = [item["title"] for item in get_json(api_client, SEARCH, params)["results"]]
    assert "Pro Renamed" in titles and "Pro" not in titles


def test_an_edit_through_this_process_drops_its_kept_copies_at_once(
    api_client, search_catalog, django_capture_on_commit_callbacks
):
    params = {"q": "pro"}
    get_json(api_client, SEARCH, params)
    get_json(api_client, SEARCH, params)
    with django_capture_on_commit_callbacks(execute=True):
        search_catalog["exact"].title = "Pro Renamed"
        search_catalog["exact"].save()
    titles = [item["title"] for item in get_json(api_client, SEARCH, params)["results"]]
    assert "Pro Renamed" in titles


def _incr_shared_catalog_version() -> None:
    cache.set(CATALOG_VERSION_KEY, catalog_version() + 1, timeout=None)


def test_a_cached_suggestion_costs_one_redis_round_trip(api_client, search_catalog, redis_commands):
    get_json(api_client, SUGGEST, {"q": "pro"})
    redis_commands.clear()
    get_json(api_client, SUGGEST, {"q": "pro"})
    assert redis_commands == ["EVALSHA"]  # the rate limit, the catalog version, the response


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
