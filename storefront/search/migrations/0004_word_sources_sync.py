"""search_word records whether a word occurs in titles, descriptions or both (models.py).

The vocabulary part of `search_index_products` becomes its own function, an upsert that only
writes a word's row when it gains a source; the words of today's catalog are then recorded.
"""

from django.db import migrations

INDEX_WORDS = """
CREATE FUNCTION search_index_words(product_ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO search_word AS known (word, in_title, in_description)
    SELECT word, bool_or(in_title), bool_or(NOT in_title)
    FROM (
        SELECT unnest(string_to_array(search_normalize(p.title), ' ')) AS word, true AS in_title
        FROM catalog_product p WHERE p.id = ANY(product_ids)
        UNION ALL
        SELECT unnest(string_to_array(search_normalize(p.description), ' ')), false
        FROM catalog_product p WHERE p.id = ANY(product_ids)
    ) AS words
    WHERE word <> ''
    GROUP BY word
    ON CONFLICT (word) DO UPDATE
    SET in_title = known.in_title OR excluded.in_title,
        in_description = known.in_description OR excluded.in_description
    WHERE (excluded.in_title AND NOT known.in_title)
       OR (excluded.in_description AND NOT known.in_description);
$$
"""

INDEX_PRODUCTS = """
CREATE OR REPLACE FUNCTION search_index_products(product_ids bigint[]) RETURNS void
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
    SELECT search_index_words(product_ids);
$$
"""

# 0002's definition, for going back.
INDEX_PRODUCTS_BEFORE = """
CREATE OR REPLACE FUNCTION search_index_products(product_ids bigint[]) RETURNS void
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
"""


class Migration(migrations.Migration):
    dependencies = [("search", "0003_word_sources")]

    operations = [
        migrations.RunSQL(
            [
                INDEX_WORDS,
                INDEX_PRODUCTS,
                "SELECT search_index_words(ARRAY(SELECT id FROM catalog_product))",
                "ANALYZE search_word",
            ],
            [INDEX_PRODUCTS_BEFORE, "DROP FUNCTION search_index_words(bigint[])"],
        )
    ]
