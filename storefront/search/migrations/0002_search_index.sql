-- The search tables kept equal to the catalog (models.py), owned by the search app. Installed by
-- search migrations; a change here ships with a new migration that runs this file again.
--
-- Statement-level triggers with transition tables: a COPY of 20,000 products indexes them in
-- one set-based INSERT rather than 20,000 function calls. Triggers rather than signals because
-- COPY, QuerySet.update() and raw SQL run no signals.

-- The one definition of how text becomes terms (upper case, every run of non-alphanumeric
-- characters one space); the search queries call it too, so a query and the catalog are
-- always normalized alike.
CREATE OR REPLACE FUNCTION search_normalize(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT btrim(regexp_replace(upper(value), '[^[:alnum:]]+', ' ', 'g'))
$$;

-- The vocabulary: each word of the products' titles and descriptions, and where it occurs; a
-- word's row is written only when it gains a source.
CREATE OR REPLACE FUNCTION search_index_words(product_ids bigint[]) RETURNS void
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
$$;

-- TermSource.WORD_THEN_TITLE: each word of a title followed by the whole title, so a word's
-- products in title order are one range of search_term_range_idx.
CREATE OR REPLACE FUNCTION search_index_word_titles(product_ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO search_term (product_id, source, term, price, category_id)
    SELECT DISTINCT p.id, 3, left(word || '|' || t.title, 200), p.price, p.category_id
    FROM catalog_product p
    CROSS JOIN LATERAL (SELECT search_normalize(p.title) AS title) t
    CROSS JOIN LATERAL unnest(string_to_array(t.title, ' ')) AS word
    WHERE p.id = ANY(product_ids) AND word <> '';
$$;

-- The terms of the products: the normalized title read from each word on (the whole title,
-- then from its second or a later word), each word then its title, and the vocabulary.
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
$$;

CREATE OR REPLACE FUNCTION search_products_changed() RETURNS trigger
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
$$;

-- seed_data --reset empties the catalog with TRUNCATE, which fires no DELETE trigger. DELETE,
-- not TRUNCATE: a TRUNCATE that lists search_term too (Django's flush) is still running.
CREATE OR REPLACE FUNCTION search_products_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search_term;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER search_products_inserted AFTER INSERT ON catalog_product
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION search_products_changed();

CREATE OR REPLACE TRIGGER search_products_updated AFTER UPDATE ON catalog_product
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION search_products_changed();

CREATE OR REPLACE TRIGGER search_products_deleted AFTER DELETE ON catalog_product
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION search_products_changed();

CREATE OR REPLACE TRIGGER search_products_truncated AFTER TRUNCATE ON catalog_product
FOR EACH STATEMENT EXECUTE FUNCTION search_products_truncated();
