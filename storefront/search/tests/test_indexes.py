"""The ORM's own lookups hit the search indexes.

With sequential scans priced out, a plan that still avoids the index would mean the index
expression no longer matches the SQL Django emits.
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from storefront.search.selectors import product_rows, product_search, suggestion_queries


@pytest.fixture
def no_seqscan(catalog_factory):
    """Some thousands of varied titles (so the planner has statistics), sequential scans off."""
    category = catalog_factory.category()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO catalog_product (title, description, price, category_id,
                                         created_at, updated_at)
            SELECT (ARRAY['Pro', 'Ultra', 'Smart', 'Eco'])[n %% 4 + 1] || ' '
                   || (ARRAY['Laptop', 'Kettle', 'Mouse', 'Lamp', 'Drone'])[n %% 5 + 1]
                   || ' ' || md5(n::text),
                   'brand ' || md5((n * 7)::text), n %% 500, %s, now(), now()
            FROM generate_series(1, 5000) AS n
            """,
            [category.pk],
        )
        cursor.execute("ANALYZE catalog_product")
        cursor.execute("SET LOCAL enable_seqscan = off")


def plan(queryset) -> str:
    return queryset.explain()


def plans_of_search(**params) -> list[str]:
    """The plan of every query a search runs, in order."""
    with CaptureQueriesContext(connection) as queries:
        product_search(**params)
    plans = []
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            cursor.execute(f"EXPLAIN {query['sql']}")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


def test_relevance_tiers_are_ranges_of_the_term_index_in_result_order(no_seqscan):
    tiers = [
        text
        for text in plans_of_search(q="pro", min_price=Decimal("10"))
        if "search_term" in text and "catalog_product_pkey" not in text
    ]
    assert tiers  # the page was filled from the term index
    for text in tiers:
        assert "search_term_range_idx" in text
        assert "(term >= 'PRO'::text) AND (term < 'PRP'::text)" in text
        assert "Sort" not in text  # the index yields the tier's order: it stops after a page


def test_substring_tiers_use_the_title_and_description_trigram_indexes(no_seqscan):
    with connection.cursor() as cursor:
        # A walk of the title B-tree is the other plan; without it the trigram indexes remain.
        cursor.execute(
            "DROP INDEX product_title_id_idx, product_category_title_idx, product_title_upper_c_idx"
        )
    text = "\n".join(plans_of_search(q="rand"))  # in descriptions only: every tier is read
    assert "product_title_upper_trgm_idx" in text
    assert "product_description_upper_trgm_idx" in text


def test_suggest_prefix_is_an_index_range(no_seqscan):
    starting, _ = suggestion_queries(q="pro")
    text = plan(starting[:10])
    assert "product_title_upper_c_idx" in text
    assert "Index Cond" in text


def test_in_stock_probes_the_partial_inventory_index(no_seqscan, catalog_factory):
    stores = [catalog_factory.store(f"Store {number}") for number in range(20)]
    with connection.cursor() as cursor:
        # Twenty stores each stock every product, one row in ten sold out.
        cursor.execute(
            """
            INSERT INTO stores_inventory (store_id, product_id, quantity, updated_at,
                                          product_title_key)
            SELECT s.id, p.id, (p.id + s.id) %% 10, now(), ''
            FROM catalog_product p CROSS JOIN stores_store s WHERE s.id = ANY(%s)
            """,
            [[store.pk for store in stores]],
        )
        cursor.execute("ANALYZE stores_inventory")
        cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
    text = "\n".join(plans_of_search(q="pro", store_id=stores[0].pk, in_stock=True))
    assert "inventory_in_stock_idx" in text


def test_store_quantity_reads_inventory_by_index(no_seqscan):
    text = plan(product_rows(ids=[1, 2, 3], store_id=1))
    assert "Seq Scan on stores_inventory" not in text
