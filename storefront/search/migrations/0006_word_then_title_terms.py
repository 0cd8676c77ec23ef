"""TermSource.WORD_THEN_TITLE: each word of a title followed by the whole title (models.py).

`ordering=title` with `q` walked the catalog's title index testing every row: the products of a
word cluster wherever the titles of that word sort (all "Wireless ..." titles under W), so
`q=wireless&ordering=title` read 90 % of a million titles (1-3 s). A word's products in title
order are now one range of search_term_range_idx.
"""

from django.db import migrations, models

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
    SELECT search_index_word_titles(product_ids);
    SELECT search_index_words(product_ids);
$$
"""

INDEX_WORD_TITLES = """
CREATE FUNCTION search_index_word_titles(product_ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO search_term (product_id, source, term, price, category_id)
    SELECT DISTINCT p.id, 3, left(word || '|' || t.title, 200), p.price, p.category_id
    FROM catalog_product p
    CROSS JOIN LATERAL (SELECT search_normalize(p.title) AS title) t
    CROSS JOIN LATERAL unnest(string_to_array(t.title, ' ')) AS word
    WHERE p.id = ANY(product_ids) AND word <> '';
$$
"""

# 0004's definition, for going back.
INDEX_PRODUCTS_BEFORE = INDEX_PRODUCTS.replace(
    "    SELECT search_index_word_titles(product_ids);\n", ""
)


class Migration(migrations.Migration):
    dependencies = [("search", "0005_term_category_index")]

    operations = [
        migrations.AlterField(
            model_name="searchterm",
            name="source",
            field=models.SmallIntegerField(
                choices=[
                    (1, "the whole title"),
                    (2, "the title from its second or a later word"),
                    (3, "a word of the title, WORD_SEPARATOR, the whole title"),
                ]
            ),
        ),
        migrations.RunSQL(
            [
                INDEX_WORD_TITLES,
                INDEX_PRODUCTS,
                "SELECT search_index_word_titles(ARRAY(SELECT id FROM catalog_product))",
                "ANALYZE search_term",
            ],
            [
                "DELETE FROM search_term WHERE source = 3",
                INDEX_PRODUCTS_BEFORE,
                "DROP FUNCTION search_index_word_titles(bigint[])",
            ],
        )
    ]
