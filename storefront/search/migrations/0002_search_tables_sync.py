"""The triggers that keep search_term and search_word equal to the catalog (see models.py).

Statement-level triggers with transition tables: a COPY of 20,000 products indexes them in one
set-based INSERT rather than 20,000 function calls. `search_normalize` is the one definition of
how text becomes terms (upper case, every run of non-alphanumeric characters one space); the
search queries call it too, so a query and the catalog are always normalized alike.
"""

from typing import Any

from django.db import migrations

FORWARD: list[str | tuple[str, Any]] = [
    """
    CREATE FUNCTION search_normalize(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT btrim(regexp_replace(upper(value), '[^[:alnum:]]+', ' ', 'g'))
    $$
    """,
    # The terms of the products in `products`: the normalized title read from each word on.
    """
    CREATE FUNCTION search_index_products(product_ids bigint[]) RETURNS void
    LANGUAGE sql AS $$
        DELETE FROM search_term WHERE product_id = ANY(product_ids);
        INSERT INTO search_term (product_id, source, term, price, category_id)
        SELECT p.id, CASE WHEN w.n = 1 THEN 1 ELSE 2 END,
               array_to_string(t.words[w.n:], ' '), p.price, p.category_id
        FROM catalog_product p
        CROSS JOIN LATERAL (
            SELECT string_to_array(search_normalize(p.title), ' ') AS words
        ) t
        CROSS JOIN LATERAL generate_subscripts(t.words, 1) AS w(n)
        WHERE p.id = ANY(product_ids);
        INSERT INTO search_word (word)
        SELECT DISTINCT word
        FROM catalog_product p,
             unnest(string_to_array(search_normalize(p.title || ' ' || p.description), ' '))
                 AS word
        WHERE p.id = ANY(product_ids) AND word <> ''
        ON CONFLICT DO NOTHING;
    $$
    """,
    """
    CREATE FUNCTION search_products_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM search_term WHERE product_id IN (SELECT id FROM old_rows);
        ELSIF TG_OP = 'INSERT' THEN
            PERFORM search_index_products(ARRAY(SELECT id FROM new_rows));
        ELSE
            -- A statement trigger cannot name columns when it has transition tables: compare.
            PERFORM search_index_products(ARRAY(
                SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                WHERE (n.title, n.description, n.price, n.category_id)
                      IS DISTINCT FROM (o.title, o.description, o.price, o.category_id)
            ));
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER search_products_inserted AFTER INSERT ON catalog_product
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_products_changed()
    """,
    """
    CREATE TRIGGER search_products_updated
    AFTER UPDATE ON catalog_product
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_products_changed()
    """,
    """
    CREATE TRIGGER search_products_deleted AFTER DELETE ON catalog_product
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_products_changed()
    """,
    # seed_data --reset empties the catalog with TRUNCATE, which fires no DELETE trigger. DELETE,
    # not TRUNCATE: a TRUNCATE that lists search_term too (Django's flush) is still running.
    """
    CREATE FUNCTION search_products_truncated() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM search_term;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER search_products_truncated AFTER TRUNCATE ON catalog_product
    FOR EACH STATEMENT EXECUTE FUNCTION search_products_truncated()
    """,
    # The catalog as it is now (a million products: about a minute).
    "SELECT search_index_products(ARRAY(SELECT id FROM catalog_product))",
    "ANALYZE search_term, search_word",
]

BACKWARD: list[str | tuple[str, Any]] = [
    "DROP TRIGGER IF EXISTS search_products_truncated ON catalog_product",
    "DROP FUNCTION IF EXISTS search_products_truncated()",
    "DROP TRIGGER IF EXISTS search_products_deleted ON catalog_product",
    "DROP TRIGGER IF EXISTS search_products_updated ON catalog_product",
    "DROP TRIGGER IF EXISTS search_products_inserted ON catalog_product",
    "DROP FUNCTION IF EXISTS search_products_changed()",
    "DROP FUNCTION IF EXISTS search_index_products(bigint[])",
    "DROP FUNCTION IF EXISTS search_normalize(text)",
    "TRUNCATE search_term, search_word",
]


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0001_search_tables"),
        ("catalog", "0003_product_listing_indexes"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
