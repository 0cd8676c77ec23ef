"""The ORM's own lookups hit the search indexes.

With sequential scans priced out, a plan that still avoids the index would mean the index
expression no longer matches the SQL Django emits.
"""

from decimal import Decimal

import pytest
from django.db import connection

from storefront.search.selectors import (
    SearchFilters,
    product_rows,
    relevance_tiers,
    suggestion_queries,
)


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


def test_relevance_tiers_are_ranges_of_the_term_index_in_result_order(no_seqscan):
    filters = SearchFilters(min_price=Decimal("10"), category_id=None)
    starts, later_word, *_ = relevance_tiers(["PRO"], filters=filters)
    for tier in (starts, later_word):
        text = plan(tier[:21])
        assert "search_term_range_idx" in text
        assert "Index Cond: ((source = " in text
        assert "(term >= 'PRO'::text) AND (term < 'PRP'::text)" in text
        assert "Sort" not in text  # the index yields the tier's order: it stops after 21


def test_substring_tiers_use_the_title_and_description_trigram_indexes(no_seqscan):
    *_, anywhere = relevance_tiers(["PRO"], filters=SearchFilters())
    with connection.cursor() as cursor:
        # A walk of the title B-tree is the other plan; without it the trigram indexes remain.
        cursor.execute("DROP INDEX product_title_upper_c_idx")
    text = plan(anywhere[:21])
    assert "product_title_upper_trgm_idx" in text
    assert "product_description_upper_trgm_idx" in text


def test_suggest_prefix_is_an_index_range(no_seqscan):
    starting, _ = suggestion_queries(q="pro")
    text = plan(starting[:10])
    assert "product_title_upper_c_idx" in text
    assert "Index Cond" in text


def test_in_stock_uses_the_partial_inventory_index(no_seqscan):
    starts, *_ = relevance_tiers(["PRO"], filters=SearchFilters(in_stock=True, store_id=1))
    queryset = starts
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
    text = plan(queryset[:21])
    assert "stores_inventory" in text
    assert "Seq Scan on stores_inventory" not in text


def test_store_quantity_reads_inventory_by_index(no_seqscan):
    text = plan(product_rows(ids=[1, 2, 3], store_id=1))
    assert "Seq Scan on stores_inventory" not in text
