-- The search tables kept equal to the catalog (models.py), owned by the search app. Installed by
-- search migrations; a change here ships with a new migration that runs this file again.
--
-- Statement-level triggers with transition tables: a COPY of 20,000 products is indexed by one
-- set-based INSERT rather than 20,000 function calls. Triggers rather than signals because
-- COPY, QuerySet.update() and raw SQL run no signals. Every write that can change a search
-- answer also moves the catalog version (search_catalog), which cached answers are checked
-- against on every request.

-- unaccent() is STABLE (its dictionary could change); with the dictionary named it is safe to
-- index, which is what an expression or stored key of it needs.
CREATE OR REPLACE FUNCTION search_unaccent(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT public.unaccent('public.unaccent'::regdictionary, value)
$$;

-- The one definition of how text is compared: accents removed, upper case, every run of
-- characters other than letters and digits one space. The catalog's keys and every query go
-- through it, so "Café", "CAFE" and "cafe" are the same word.
CREATE OR REPLACE FUNCTION search_normalize(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT btrim(regexp_replace(upper(search_unaccent(value)), '[^[:alnum:]]+', ' ', 'g'))
$$;

-- Invalidates every cached search and suggestion: the version only grows (from the clock, so it
-- also grows past a table emptied by a flush). Transactional: a search reading the catalog
-- before the write commits also reads the version before it.
CREATE OR REPLACE FUNCTION search_catalog_changed() RETURNS void
LANGUAGE sql AS $$
    INSERT INTO search_catalog (id, version)
    VALUES (1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
    ON CONFLICT (id) DO UPDATE
    SET version = greatest(search_catalog.version + 1, excluded.version);
$$;

-- The lexemes a document is matched by: every distinct word of the normalized text, as is
-- (array_to_tsvector applies no dictionary: the words are already search_normalize's).
CREATE OR REPLACE FUNCTION search_lexemes(normalized text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_to_tsvector(array_remove(string_to_array(normalized, ' '), ''))
$$;

-- The documents of the products on sale (one row each; archived products have none: the normalized title, the lexemes of the title
-- and the description, and the filter and order columns), and the vocabulary typo correction
-- reads.
CREATE OR REPLACE FUNCTION search_index_products(product_ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM search_document WHERE product_id = ANY(product_ids);
    INSERT INTO search_document (product_id, title_key, words, price, category_id, created_at)
    SELECT p.id, t.title_key,
           search_lexemes(t.title_key || ' ' || search_normalize(p.description)),
           p.price, p.category_id, p.created_at
    FROM catalog_product p
    CROSS JOIN LATERAL (SELECT search_normalize(p.title) AS title_key) t
    WHERE p.id = ANY(product_ids) AND p.archived_at IS NULL  -- archived: out of search
    -- in id order, whatever the plan: counting extrapolates from the table's physical order
    ORDER BY p.id;
    INSERT INTO search_word (word)
    SELECT DISTINCT word
    FROM search_document d
    CROSS JOIN LATERAL unnest(tsvector_to_array(d.words)) AS word
    WHERE d.product_id = ANY(product_ids)
    ON CONFLICT (word) DO NOTHING;
$$;

CREATE OR REPLACE FUNCTION search_products_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed bigint[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM search_document WHERE product_id IN (SELECT id FROM old_rows);
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM search_index_products(ARRAY(SELECT id FROM new_rows));
    ELSE
        -- A statement trigger cannot name columns when it has transition tables: compare.
        changed := ARRAY(
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE (n.title, n.description, n.price, n.category_id, n.created_at, n.archived_at)
                  IS DISTINCT FROM
                  (o.title, o.description, o.price, o.category_id, o.created_at, o.archived_at)
        );
        IF cardinality(changed) = 0 THEN
            RETURN NULL;
        END IF;
        PERFORM search_index_products(changed);
    END IF;
    PERFORM search_catalog_changed();
    RETURN NULL;
END
$$;

-- seed_data --reset empties the catalog with TRUNCATE, which fires no DELETE trigger. DELETE,
-- not TRUNCATE: a TRUNCATE that lists the search tables too (Django's flush) is still running.
CREATE OR REPLACE FUNCTION search_products_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search_document;
    PERFORM search_catalog_changed();
    RETURN NULL;
END
$$;

-- Category names are shown in results and facets.
CREATE OR REPLACE FUNCTION search_categories_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_catalog_changed();
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

CREATE OR REPLACE TRIGGER search_categories_changed
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON catalog_category
FOR EACH STATEMENT EXECUTE FUNCTION search_categories_changed();
