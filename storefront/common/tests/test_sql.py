"""The SQL functions the database holds are the ones their .sql files define."""

import pytest
from django.db import connection

from storefront.common.sql import installed_definitions_differ, sql_file

pytestmark = pytest.mark.django_db

SQL_FILES = [
    (
        "inventory",
        "stock.sql",
        [
            "inventory_lock",
            "inventory_change",
            "inventory_adjust",
            "inventory_set",
            "inventory_take",
            "inventory_return",
        ],
    ),
    ("notifications", "outbox.sql", ["notifications_order_email_enqueue"]),
    ("orders", "orders_place.sql", ["orders_place"]),
    (
        "search",
        "search_index.sql",
        [
            "search_unaccent",
            "search_normalize",
            "search_lexemes",
            "search_catalog_changed",
            "search_index_products",
            "search_products_changed",
            "search_products_truncated",
            "search_categories_changed",
        ],
    ),
    (
        "search",
        "search.sql",
        [
            "search_words",
            "search_term_query",
            "search_term_pattern",
            "search_match_sql",
            "search_tier_condition",
            "search_tier_sql",
            "search_filter_sql",
            "search_order_sql",
            "search_price_width",
            "search_facets_sql",
            "search_read",
            "search_ordered_ids",
            "search_ranked_tiers",
            "search_ordered_walk",
            "search_ranked_ids",
            "search_corrected",
            "search_products",
            "search_rows",
            "search_suggest",
        ],
    ),
]


@pytest.mark.parametrize(("app", "name", "functions"), SQL_FILES)
def test_the_installed_functions_are_the_files(app, name, functions):
    assert installed_definitions_differ(app, name, functions) == {}


def test_a_function_changed_in_the_database_is_reported():
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION notifications_order_email_enqueue("
            "p_order bigint, p_now timestamptz) RETURNS void LANGUAGE sql AS 'SELECT 1'"
        )
    changed = installed_definitions_differ(
        "notifications", "outbox.sql", ["notifications_order_email_enqueue"]
    )
    assert list(changed) == ["notifications_order_email_enqueue(bigint,timestamp with time zone)"]


def test_every_function_of_a_file_is_checked():
    """A function added to a file but not to SQL_FILES would go unchecked."""
    for app, name, functions in SQL_FILES:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = ANY (%s)", [functions])
            assert cursor.fetchone() == (len(functions),)
        assert sql_file(app, name).count("CREATE OR REPLACE FUNCTION") == len(functions)
