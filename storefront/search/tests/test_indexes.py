"""The queries the search functions build (sql/search.sql) use the search indexes.

With sequential scans priced out, a plan that still avoids an index would mean the query no
longer has the shape the index serves.
"""

import pytest
from django.db import connection


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
        cursor.execute("ANALYZE search_document")
        cursor.execute("SET LOCAL enable_seqscan = off")


def sql_value(expression: str, params: list) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {expression}", params)
        return cursor.fetchone()[0]


def plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def condition(q: str, *, store: int | None = None, in_stock: bool = False) -> str:
    return sql_value(
        "search_match_sql(search_words(%s), %s)"
        " || search_filter_sql(NULL, NULL, NULL, %s::bigint, %s)",
        [q, q, store, in_stock],
    )


def test_words_are_matched_on_the_words_index_by_a_bitmap(no_seqscan):
    """Counting reads matches in the table's physical order (search_read): a bitmap scan of
    search_document_words_idx."""
    text = plan(
        f"SELECT count(*) FROM (SELECT 1 FROM search_document d WHERE {condition('pro mou')}"
        " LIMIT 10001) s"
    )
    assert "Bitmap Index Scan on search_document_words_idx" in text
    assert """Index Cond: (words @@ '''PRO'':* & ''MOU'':*'::tsquery)""" in text


def test_the_first_tier_is_a_range_of_the_title_index_in_title_order(no_seqscan):
    sql = (
        f"SELECT d.product_id FROM search_document d WHERE {condition('pro')}"
        " AND d.title_key LIKE 'PRO%' ORDER BY d.title_key, d.product_id LIMIT 21"
    )
    text = plan(sql)
    assert "search_document_title_idx" in text
    assert "(title_key >= 'PRO'::text) AND (title_key < 'PRP'::text)" in text
    assert "Sort" not in text  # the index yields title order: it stops after a page


def test_suggest_prefix_is_an_index_range(no_seqscan):
    text = plan(
        "SELECT min(d.product_id) FROM search_document d WHERE d.title_key LIKE 'PRO%'"
        " GROUP BY d.title_key ORDER BY d.title_key LIMIT 10"
    )
    assert "search_document_title_idx" in text
    assert "Index Cond" in text


def test_in_stock_probes_the_inventory_by_index(no_seqscan, catalog_factory):
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
    where = condition("pro", store=stores[0].pk, in_stock=True)
    text = plan(f"SELECT d.product_id FROM search_document d WHERE {where} LIMIT 21")
    # One probe per candidate (a subplan: inventory_in_stock_idx or the product's own index).
    assert "SubPlan" in text
    assert "Index Cond: ((product_id = d.product_id)" in text
    assert "Seq Scan on stores_inventory" not in text


def test_rows_read_inventory_by_index(no_seqscan, catalog_factory):
    text = plan("SELECT * FROM search_rows(ARRAY[1, 2, 3]::bigint[], 1)")
    assert "Seq Scan on stores_inventory" not in text
