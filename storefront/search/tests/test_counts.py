"""`count` is exact up to COUNT_EXACT_UP_TO matches and within 10 % above it; facets equal SQL
GROUP BY on the same filters (disjunctive for the category) and are flagged when estimated."""

from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from storefront.catalog.models import Category, Product
from storefront.search import selectors
from storefront.search.selectors import COUNT_EXACT_UP_TO, SearchQuery, search_matches

SEARCH = reverse("search-products")


def search(api_client, **params) -> dict:
    response = api_client.get(SEARCH, params)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def large_catalog(catalog_factory):
    """40,000 products whose title words occur in known shares (Alpha in every 2nd product,
    Beta every 3rd, Gamma every 5th, Delta every 7th) over three categories and 0-999.99.

    Estimates assume matches spread over the search table's pages as its rows are, as in a
    catalog loaded in one go or kept by autovacuum; the table is emptied first (TRUNCATE, rolled
    back with the test) so that rows earlier tests left or rolled back do not make it uneven."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE search_document")
    categories = [catalog_factory.category(name).pk for name in ("Home", "Garden", "Books")]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO catalog_product (title, description, price, category_id,
                                         created_at, updated_at)
            SELECT concat_ws(' ', CASE WHEN n %% 2 = 0 THEN 'Alpha' END,
                             CASE WHEN n %% 3 = 0 THEN 'Beta' END,
                             CASE WHEN n %% 5 = 0 THEN 'Gamma' END,
                             CASE WHEN n %% 7 = 0 THEN 'Delta' END, 'Item', n),
                   CASE WHEN n %% 4 = 0 THEN 'with a manual' ELSE '' END,
                   (n * 37 %% 100000) / 100.0, (%s::bigint[])[n %% 3 + 1], now(), now()
            FROM generate_series(1, 40000) AS n
            """,
            [categories],
        )
        cursor.execute("ANALYZE search_document")
    return categories


def true_count(words: list[str], **filters) -> int:
    products = Product.objects.filter(**filters)
    for word in words:
        products = products.filter(title__icontains=word) | products.filter(
            description__icontains=word
        )
    return products.count()


QUERIES = [
    ["alpha"], ["beta"], ["gamma"], ["delta"], ["item"], ["alp"], ["manual"],
    ["alpha", "beta"], ["alpha", "gamma"], ["beta", "item"], ["item", "manual"],
]  # fmt: skip


@pytest.mark.slow
def test_counts_are_exact_up_to_the_bound_and_within_ten_percent_above(api_client, large_catalog):
    seen_exact = seen_estimated = 0
    for words in QUERIES:
        for filters, params in [({}, {}), ({"price__gte": 100}, {"min_price": "100"})]:
            expected = true_count(words, **filters)
            body = search(api_client, q=" ".join(words), **params)
            if expected <= COUNT_EXACT_UP_TO:
                assert (body["count"], body["count_exact"]) == (expected, True), words
                seen_exact += 1
            else:
                assert body["count_exact"] is False, words
                assert abs(body["count"] - expected) <= expected / 10, (words, expected, body)
                seen_estimated += 1
    assert seen_exact >= 5 and seen_estimated >= 5  # the query set covers both sides


@pytest.mark.slow
def test_in_stock_counts_are_estimated_in_the_documents_order(
    api_client, large_catalog, catalog_factory
):
    """A store stocking 3 products in 5 (24,000 in stock) is counted within 10 %: the
    documents drive the read, whatever order the inventory's rows are in."""
    store = catalog_factory.store()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO stores_inventory (store_id, product_id, quantity, updated_at,"
            " product_title_key)"
            " SELECT %s, p.id, CASE WHEN p.id %% 5 < 3 THEN 4 ELSE 0 END, now(), ''"
            " FROM catalog_product p ORDER BY p.id DESC",
            [store.pk],
        )
        cursor.execute("ANALYZE stores_inventory")
    in_stock = {"inventory__store": store, "inventory__quantity__gt": 0}
    for words in ([], ["item"], ["alpha"], ["gamma"]):
        expected = true_count(words, **in_stock)
        body = search(api_client, q=" ".join(words), store_id=store.pk, in_stock="true")
        if expected <= COUNT_EXACT_UP_TO:
            assert (body["count"], body["count_exact"]) == (expected, True), words
        else:
            assert body["count_exact"] is False, words
            assert abs(body["count"] - expected) <= expected / 10, (words, expected, body["count"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("q", "ordering"),
    [("a", None), ("beta", None), ("item", None), ("beta", "title"), ("item", "-price")],
)
def test_pages_above_the_bound_are_the_whole_sort(large_catalog, monkeypatch, q, ordering):
    """Above the bound, pages are read tier by tier, or along an index of their order; they
    equal the matches sorted whole."""

    def pages() -> list[list[int]]:
        return [
            search_matches(SearchQuery(q=q, ordering=ordering, page=page, page_size=50)).ids
            for page in (1, 40, 200)
        ]

    walked = pages()
    monkeypatch.setattr(selectors, "COUNT_EXACT_UP_TO", 100_000)
    assert pages() == walked
    assert all(walked)


@pytest.mark.slow
def test_facets_above_the_bound_are_estimated_and_flagged(api_client, large_catalog):
    body = search(api_client, q="item", facets="category,price")
    assert body["facets_exact"] is False
    for facet in body["facets"]["category"]:
        expected = Product.objects.filter(category_id=facet["id"]).count()
        assert abs(facet["count"] - expected) <= expected / 5


@pytest.fixture
def shop(catalog_factory):
    f = catalog_factory
    return [
        f.product("Pro Lamp", price="5.00", category="Home"),
        f.product("Pro Desk", price="149.99", category="Home"),
        f.product("Pro Pen", price="1.50", category="Office"),
        f.product("Pro Chair", price="320.00", category="Office"),
        f.product("Pro Hose", price="42.00", category="Garden"),
        f.product("Basic Hose", price="12.00", category="Garden"),
    ]


def grouped_by_category(**filters) -> list[tuple[int, str, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, c.name, count(*) FROM catalog_product p"
            " JOIN catalog_category c ON c.id = p.category_id"
            " WHERE upper(p.title) LIKE '%%PRO%%' AND p.price BETWEEN %s AND %s"
            " GROUP BY c.id, c.name ORDER BY count(*) DESC, c.name",
            [filters.get("low", 0), filters.get("high", 10**8)],
        )
        return cursor.fetchall()


def test_category_facet_is_sql_group_by_without_the_category_filter(api_client, shop):
    home = Category.objects.get(name="Home").pk
    body = search(api_client, q="pro", category=home, min_price="6", facets="category")
    assert body["count"] == 1  # the results are narrowed to Home ...
    assert "price" not in body["facets"]
    facet = [(f["id"], f["name"], f["count"]) for f in body["facets"]["category"]]
    assert facet == grouped_by_category(low=6)  # ... the counts to switch to are not
    assert body["facets_exact"] is True


def test_price_facet_is_sql_group_by_in_buckets_of_the_documented_width(api_client, shop):
    body = search(api_client, q="pro", max_price="200", facets="price")
    price = body["facets"]["price"]
    assert (price["min"], price["max"]) == ("1.50", "149.99")
    # 1.50..149.99: widths 1, 2, 5, 10 need more than 10 buckets; 20 covers it in 8.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT floor(price / 20) * 20, count(*) FROM catalog_product"
            " WHERE upper(title) LIKE '%PRO%' AND price <= 200 GROUP BY 1"
        )
        grouped = {Decimal(low): n for low, n in cursor.fetchall()}
    assert [b["from"] for b in price["buckets"]] == [f"{20 * n}.00" for n in range(8)]
    assert all(Decimal(b["to"]) - Decimal(b["from"]) == 20 for b in price["buckets"])
    assert {Decimal(b["from"]): b["count"] for b in price["buckets"] if b["count"]} == grouped


def test_facets_of_no_match_are_empty(api_client, shop):
    body = search(api_client, q="zzzz", facets="category,price")
    assert body["facets"] == {
        "category": [],
        "price": {"min": None, "max": None, "buckets": []},
    }


def test_no_facets_unless_asked(api_client, shop):
    body = search(api_client, q="pro")
    assert "facets" not in body and "facets_exact" not in body
    assert (body["count"], body["count_exact"]) == (5, True)


@pytest.mark.parametrize("value", ["colour", "category,", "price;category", ""])
def test_unknown_facets_are_a_400(api_client, db, value):
    response = api_client.get(SEARCH, {"facets": value})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["facets"]
