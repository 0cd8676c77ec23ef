"""The ORM's own lookups hit the search indexes.

With sequential scans priced out, a plan that still avoids the index would mean the index
expression no longer matches the SQL Django emits.
"""

import pytest
from django.db import connection

from storefront.search.selectors import product_rows, product_search_queryset, suggestion_queries


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


def test_q_uses_the_title_and_description_trigram_indexes(no_seqscan):
    text = plan(product_search_queryset(q="pro").values_list("id", flat=True)[:21])
    assert "product_title_upper_trgm_idx" in text
    assert "product_description_upper_trgm_idx" in text


def test_typo_fallback_uses_the_title_trigram_index(no_seqscan):
    with connection.cursor() as cursor:
        # With sequential scans off, a small table's planner prefers a full B-tree scan over
        # title; dropping them (rolled back with the test) leaves the trigram index to prove.
        cursor.execute(
            "DROP INDEX product_title_id_idx, product_category_title_idx, product_title_upper_c_idx"
        )
    text = plan(product_search_queryset(q="lptop", similar=True).values_list("id", flat=True))
    # Whole-title similarity (`%`) and word similarity (`%>`) are both index conditions.
    assert "Index Cond: (upper((title)::text) % 'LPTOP'::text)" in text
    assert "Index Cond: (upper((title)::text) %> 'LPTOP'::text)" in text


def test_suggest_prefix_is_an_index_range(no_seqscan):
    starting, _ = suggestion_queries(q="pro")
    text = plan(starting[:10])
    assert "product_title_upper_c_idx" in text
    assert "Index Cond" in text


def test_in_stock_uses_the_partial_inventory_index(no_seqscan):
    queryset = product_search_queryset(in_stock=True).values_list("id", flat=True)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
    assert "inventory_in_stock_idx" in plan(queryset[:21])


def test_store_quantity_reads_inventory_by_index(no_seqscan):
    text = plan(product_rows(ids=[1, 2, 3], store_id=1))
    assert "Seq Scan on stores_inventory" not in text
