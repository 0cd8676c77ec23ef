-- Product search and suggestions, each one function called in one round trip
-- (storefront/search/selectors.py); docs/search.md explains the method. Installed by search
-- migrations; a change here ships with a new migration that runs this file again.
--
-- Queries are built as text and run with EXECUTE so that each is planned for its own values
-- (the planner reads a tsquery's words and a LIKE pattern it knows). Every value enters the
-- text through format('%L'), which quotes it; words hold only letters and digits
-- (search_normalize), so they are also literal inside LIKE patterns, regular expressions and
-- tsquery text.

-- The words of a query, normalized as the catalog's keys are.
CREATE OR REPLACE FUNCTION search_words(q text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_remove(string_to_array(search_normalize(q), ' '), ''), '{}')
$$;

-- How a query word matches a catalog word, the one definition: a word of three characters or
-- more is a prefix of it, a shorter one the whole word ("4K" is not "4KHZ"; "C" of "USB-C" is
-- not every word starting with C). As a tsquery term and as a regular expression on a key.
CREATE OR REPLACE FUNCTION search_term_query(word text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT quote_literal(word) || CASE WHEN length(word) >= 3 THEN ':*' ELSE '' END
$$;

CREATE OR REPLACE FUNCTION search_term_pattern(word text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT word || CASE WHEN length(word) >= 3 THEN '[^ ]*' ELSE '' END || '( |$)'
$$;

-- Which documents match: every word matches a word of the title or the description
-- (search_term_query; the document's lexemes, search_document_words_idx). A query of no letters or
-- digits ("%", "-") is one literal substring of the title or description (not indexed).
CREATE OR REPLACE FUNCTION search_match_sql(words text[], literal text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN cardinality(words) > 0 THEN format(
            'd.words @@ %L::tsquery',
            (SELECT string_agg(search_term_query(w), ' & ') FROM unnest(words) AS w)
        )
        WHEN literal <> '' THEN format(
            'd.product_id IN (SELECT p.id FROM catalog_product p'
            ' WHERE strpos(upper(p.title), %1$L) > 0 OR strpos(upper(p.description), %1$L) > 0)',
            upper(literal)
        )
        ELSE 'true'
    END
$$;

-- The relevance tiers, the one definition (docs/search.md, "Relevance"; the API description
-- says the same): 1 the title starts with the words in the order typed; 2 a later title word
-- does; 3 every word matches a title word; 4 the rest of the matches (a word only in the
-- description). As conditions on the normalized title (search_tier_condition: tier 1, the
-- phrase anywhere, every word in the title) and as the tier number (search_tier_sql).
CREATE OR REPLACE FUNCTION search_tier_condition(words text[], tier integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN tier IN (1, 2) THEN format(
            'd.title_key ~ %L',
            CASE tier WHEN 1 THEN '^' ELSE '(^| )' END
                || (SELECT string_agg(search_term_pattern(w), '' ORDER BY n)
                    FROM unnest(words) WITH ORDINALITY AS t(w, n))
        )
        WHEN tier = 3 THEN (
            SELECT string_agg(format('d.title_key ~ %L', '(^| )' || search_term_pattern(w)), ' AND ')
            FROM unnest(words) AS w
        )
    END
$$;

CREATE OR REPLACE FUNCTION search_tier_sql(words text[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN cardinality(words) = 0 THEN '1' ELSE format(
        'CASE WHEN %s THEN 1 WHEN %s THEN 2 WHEN %s THEN 3 ELSE 4 END',
        search_tier_condition(words, 1), search_tier_condition(words, 2),
        search_tier_condition(words, 3)
    ) END
$$;

-- The filters besides the text, each only when given.
CREATE OR REPLACE FUNCTION search_filter_sql(
    min_price numeric, max_price numeric, category bigint, store bigint, in_stock boolean
) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT concat(
        CASE WHEN min_price IS NOT NULL THEN format(' AND d.price >= %L', min_price) END,
        CASE WHEN max_price IS NOT NULL THEN format(' AND d.price <= %L', max_price) END,
        CASE WHEN category IS NOT NULL THEN format(' AND d.category_id = %L', category) END,
        -- Stock is read live (inventory_in_stock_idx), never copied: exact at commit. Probed
        -- per document, in the documents' order, which counting relies on: OFFSET 0 keeps the
        -- planner from turning the probe into a join that the inventory's rows could drive.
        CASE WHEN in_stock THEN concat(
            ' AND EXISTS (SELECT 1 FROM stores_inventory i',
            ' WHERE i.product_id = d.product_id AND i.quantity > 0',
            CASE WHEN store IS NOT NULL THEN format(' AND i.store_id = %L', store) END,
            ' OFFSET 0)'
        ) END
    )
$$;

-- Title order, the one definition: the normalized title (search_normalize, byte order), then
-- the product id. Every ordering ends on the id, so pages are stable.
CREATE OR REPLACE FUNCTION search_order_sql(ordering text, tier text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE ordering
        WHEN 'relevance' THEN tier || ', d.title_key, d.product_id'
        WHEN 'title' THEN 'd.title_key, d.product_id'
        WHEN 'price' THEN 'd.price, d.product_id'
        WHEN '-price' THEN 'd.price DESC, d.product_id DESC'
        WHEN 'newest' THEN 'd.created_at DESC, d.product_id DESC'
    END
$$;

-- The width of the price buckets: the smallest of 1, 2 or 5 times a power of ten (at least 1)
-- that covers the prices in at most 10 buckets.
CREATE OR REPLACE FUNCTION search_price_width(low numeric, high numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT min(w) FROM (
        SELECT trim_scale(step * 10::numeric ^ power) AS w
        FROM unnest(ARRAY[1, 2, 5]) AS step, generate_series(0, 12) AS power
    ) AS widths
    WHERE floor(high / w) - floor(low / w) < 10
$$;

-- The facets of the matches read into `m` (category_id, price), each standing for `scale`
-- matches: their category counts, and the price range and buckets of those also in
-- `category` when one is given. An expression over m, as SQL text.
CREATE OR REPLACE FUNCTION search_facets_sql(
    category bigint, want_categories boolean, want_prices boolean, scale text
) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT format(
        '(WITH p AS (SELECT m.price FROM m WHERE %1$s),'
        ' bounds AS (SELECT min(price) AS low, max(price) AS high,'
        '     search_price_width(min(price), max(price)) AS width FROM p)'
        ' SELECT jsonb_strip_nulls(jsonb_build_object('
        ' ''category'', CASE WHEN %2$L THEN (SELECT coalesce(jsonb_agg(jsonb_build_object('
        '     ''id'', c.id, ''name'', c.name, ''count'', round(f.n * %3$s))'
        '     ORDER BY f.n DESC, c.name, c.id), ''[]'')'
        '     FROM (SELECT m.category_id, count(*) AS n FROM m GROUP BY 1) AS f'
        '     JOIN catalog_category c ON c.id = f.category_id) END,'
        ' ''price'', CASE WHEN %4$L THEN (SELECT jsonb_build_object(''min'', low::text,'
        '     ''max'', high::text, ''buckets'', coalesce((SELECT jsonb_agg(jsonb_build_object('
        '     ''from'', (b * width)::text, ''to'', ((b + 1) * width)::text,'
        '     ''count'', round(coalesce(f.n, 0) * %3$s)) ORDER BY b)'
        '     FROM generate_series(floor(low / width)::bigint, floor(high / width)::bigint) AS b'
        '     LEFT JOIN (SELECT floor(p.price / width)::bigint AS bucket, count(*) AS n FROM p'
        '     GROUP BY 1) AS f ON f.bucket = b), ''[]'')) FROM bounds) END)))',
        CASE WHEN category IS NULL THEN 'true' ELSE format('m.category_id = %L', category) END,
        want_categories, scale, want_prices
    )
$$;

-- Reads the matches of `conditions` (on search_document d) up to `bound` + 1 of them, in the
-- table's physical order: their number, exact when at most `bound`, otherwise extrapolated
-- from the share of the table's pages they were found in, from the first match's page to the
-- last one read (`scale`: how many matches each one read stands for; pages before the first
-- match, which a catalog once larger may have left empty, are not counted); the page (`skip`, `take`) in `order_by` when the count is exact; and the facets
-- of `facets_sql` (search_facets_sql) over the matches read.
--
-- Physical order is what makes the extrapolation sound, so the documents are read by bitmap
-- scans (or a sequential scan without conditions), never along an index; the inventory is
-- probed per document (search_filter_sql), by index-only scans.
CREATE OR REPLACE FUNCTION search_read(
    conditions text, bound integer, order_by text, skip integer, take integer, facets_sql text,
    OUT total bigint, OUT exact boolean, OUT scale numeric, OUT page bigint[], OUT facets jsonb
)
LANGUAGE plpgsql STABLE
SET enable_indexscan = off SET enable_seqscan = off
AS $$
BEGIN
    EXECUTE format(
        'WITH m AS MATERIALIZED (SELECT d.product_id, d.title_key, d.price, d.created_at,'
        '     d.category_id, d.ctid FROM search_document d WHERE %1$s LIMIT %2$s),'
        ' counted AS (SELECT s.n, CASE WHEN s.n <= %3$s THEN 1'
        '     ELSE (pg_relation_size(%8$L) / current_setting(%9$L)::bigint - s.first)::numeric'
        '         / (s.last - s.first + 1) END AS scale'
        '     FROM (SELECT count(*) AS n, (min(m.ctid)::text::point)[0] AS first,'
        '         (max(m.ctid)::text::point)[0] AS last FROM m) AS s)'
        ' SELECT round(counted.n * counted.scale), counted.n <= %3$s, counted.scale,'
        ' CASE WHEN counted.n <= %3$s AND %4$s > 0 THEN ARRAY(SELECT d.product_id FROM m d'
        '     ORDER BY %5$s OFFSET %6$s LIMIT %4$s) END,'
        ' %7$s'
        ' FROM counted',
        conditions, bound + 1, bound, take, order_by, skip,
        coalesce(facets_sql, 'NULL::jsonb'), 'search_document', 'block_size'
    ) INTO total, exact, scale, page, facets;
END
$$;

-- The ids of the documents meeting `condition`, in `order_by`, from `skip` on, at most `take`:
-- the planner's choice of an index walk or a sort.
CREATE OR REPLACE FUNCTION search_ordered_ids(
    condition text, order_by text, skip integer, take integer
) RETURNS bigint[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found bigint[];
BEGIN
    EXECUTE format(
        'SELECT ARRAY(SELECT d.product_id FROM search_document d WHERE %s'
        ' ORDER BY %s OFFSET %s LIMIT %s)',
        condition, order_by, skip, take
    ) INTO found;
    RETURN found;
END
$$;

-- The relevance tiers as conditions the indexes serve, each meaning its tier alone. Tiers 1-3
-- are decided by the title alone and imply the match; tier 1's titles start with the first
-- word (a range of search_document_title_idx); tiers 2 and 3 hold every word of three
-- characters or more (search_document_title_trgm_idx).
CREATE OR REPLACE FUNCTION search_ranked_tiers(words text[], match text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY[
        format('d.title_key LIKE %L AND %s', words[1] || '%', search_tier_condition(words, 1)),
        format('%s%s AND NOT (%s)', in_title, search_tier_condition(words, 2),
               search_tier_condition(words, 1)),
        format('%s%s AND NOT (%s)', in_title, search_tier_condition(words, 3),
               search_tier_condition(words, 2)),
        format('%s AND NOT (%s)', match, search_tier_condition(words, 3))
    ]
    FROM (
        SELECT coalesce(string_agg(format('d.title_key LIKE %L AND ', '%' || w || '%'), ''), '')
            AS in_title
        FROM unnest(words) AS w WHERE length(w) >= 3
    ) AS t
$$;

-- search_ordered_ids along the index of `order_by`, for matches dense enough for the walk to
-- stop early: the planner, misjudging the tiers' regular expressions, would rather read and
-- sort them all.
CREATE OR REPLACE FUNCTION search_ordered_walk(
    condition text, order_by text, skip integer, take integer
) RETURNS bigint[]
LANGUAGE plpgsql STABLE
SET enable_bitmapscan = off SET enable_sort = off
AS $$
BEGIN
    RETURN search_ordered_ids(condition, order_by, skip, take);
END
$$;

-- Relevance order over more matches than are counted: tier after tier, each in title order,
-- until the page is full. A tier of fewer than 1,000 documents is sorted; a larger one is read
-- along search_document_title_idx (index-only for tiers 1-3, which hold price and category),
-- where its documents are dense enough to stop early. A one-word query's tier 3 is empty (its
-- tier 2 holds it).
CREATE OR REPLACE FUNCTION search_ranked_ids(
    words text[], match text, filters text, skip integer, take integer
) RETURNS bigint[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found bigint[] := '{}';
    tiers text[] := search_ranked_tiers(words, match);
    in_tier text;
    candidates bigint;
    sorted bigint[];
BEGIN
    FOR tier IN 1..4 LOOP
        EXIT WHEN cardinality(found) >= skip + take;
        CONTINUE WHEN tier = 3 AND cardinality(words) = 1;
        in_tier := tiers[tier] || filters;
        EXECUTE format(
            'SELECT count(*), array_agg(s.id ORDER BY s.key, s.id) FROM ('
            'SELECT d.product_id AS id, d.title_key AS key FROM search_document d'
            ' WHERE %s LIMIT 1000) AS s',
            in_tier
        ) INTO candidates, sorted;
        IF candidates = 1000 THEN
            sorted := search_ordered_walk(
                in_tier, search_order_sql('title', NULL), 0, skip + take - cardinality(found)
            );
        END IF;
        found := found || coalesce(sorted, '{}');
    END LOOP;
    RETURN found[skip + 1 : skip + take];
END
$$;

-- Typo tolerance: each word that matches no catalog word becomes the most similar catalog word
-- (pg_trgm similarity over search_word; ties by word).
CREATE OR REPLACE FUNCTION search_corrected(words text[]) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT array_agg(
        CASE
            WHEN (SELECT s.word FROM search_word s WHERE s.word >= w ORDER BY s.word LIMIT 1)
                 LIKE w || CASE WHEN length(w) >= 3 THEN '%' ELSE '' END THEN w
            ELSE coalesce(
                (SELECT s.word FROM search_word s WHERE s.word % w
                 ORDER BY similarity(s.word, w) DESC, s.word LIMIT 1),
                w
            )
        END
        ORDER BY n
    )
    FROM unnest(words) WITH ORDINALITY AS t(w, n)
$$;

-- One search: the ids of the page (`take` of them from `skip` on), the number of matches
-- (exact up to `exact_up_to`, above it estimated: search_read), whether the words were
-- spelling-corrected, the facets asked for (under every filter but the category: disjunctive),
-- and the catalog version all of it was read at. `ordering` is effective: relevance only with
-- words.
CREATE OR REPLACE FUNCTION search_products(
    q text, min_price numeric, max_price numeric, category bigint, store bigint,
    in_stock boolean, ordering text, skip integer, take integer,
    category_facet boolean, price_facet boolean, exact_up_to integer,
    OUT catalog_version bigint, OUT product_ids bigint[], OUT match_count bigint,
    OUT count_exact boolean, OUT fuzzy boolean, OUT facets jsonb, OUT facets_exact boolean
)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    words text[] := search_words(q);
    literal text := btrim(q);
    corrected text[];
    filters text := search_filter_sql(min_price, max_price, category, store, in_stock);
    wants_facets boolean := category_facet OR price_facet;
    -- without a category filter the matches read for counting are those facets count
    shared_facets boolean := wants_facets AND category IS NULL;
    conditions text;
    facet_scale numeric;
BEGIN
    catalog_version := (SELECT coalesce(max(c.version), 0) FROM search_catalog c);
    IF ordering = 'relevance' AND cardinality(words) = 0 THEN
        ordering := 'title';  -- a literal query ("%") has no tiers
    END IF;
    fuzzy := false;
    FOR attempt IN 1..2 LOOP
        conditions := search_match_sql(words, literal) || filters;
        SELECT r.total, r.exact, r.page, r.facets, r.scale
        INTO match_count, count_exact, product_ids, facets, facet_scale
        FROM search_read(
            conditions, exact_up_to, search_order_sql(ordering, search_tier_sql(words)),
            skip, take,
            CASE WHEN shared_facets THEN
                search_facets_sql(NULL, category_facet, price_facet, 'counted.scale') END
        ) AS r;
        EXIT WHEN match_count > 0 OR cardinality(words) = 0 OR attempt = 2;
        fuzzy := true;
        corrected := search_corrected(words);
        EXIT WHEN corrected = words;
        words := corrected;
    END LOOP;
    IF shared_facets THEN
        facets_exact := count_exact;
    END IF;
    IF count_exact THEN
        product_ids := coalesce(product_ids, '{}');
    ELSIF ordering = 'relevance' THEN
        product_ids := search_ranked_ids(
            words, search_match_sql(words, literal), filters, skip, take
        );
    ELSE
        product_ids := search_ordered_ids(
            conditions, search_order_sql(ordering, NULL), skip, take
        );
    END IF;
    IF wants_facets AND NOT shared_facets THEN
        SELECT r.facets, r.exact INTO facets, facets_exact
        FROM search_read(
            search_match_sql(words, literal)
                || search_filter_sql(min_price, max_price, NULL, store, in_stock),
            exact_up_to, 'd.product_id', 0, 0,
            search_facets_sql(category, category_facet, price_facet, 'counted.scale')
        ) AS r;
    END IF;
END
$$;

-- A page's rows as shown, read live: title, price and category name, and with a store its
-- quantity there (0 where it holds none). Also the catalog version, which tells whether a
-- cached page is still current, and whether the store exists. Always at least one row.
CREATE OR REPLACE FUNCTION search_rows(product_ids bigint[], store bigint)
RETURNS TABLE (
    catalog_version bigint, store_exists boolean, id bigint, title text, price numeric,
    category text, store_quantity integer
)
LANGUAGE sql STABLE AS $$
    SELECT v.version, s.id IS NOT NULL, p.id, p.title, p.price, c.name, coalesce(i.quantity, 0)
    FROM (SELECT coalesce(max(sc.version), 0) AS version FROM search_catalog sc) AS v
    LEFT JOIN stores_store s ON s.id = store
    LEFT JOIN catalog_product p ON p.id = ANY(product_ids)
    LEFT JOIN catalog_category c ON c.id = p.category_id
    LEFT JOIN stores_inventory i ON i.store_id = s.id AND i.product_id = p.id
$$;

-- Suggestions: up to `wanted` normalized titles starting with q's, then containing it, each
-- group in title order, each title once (its lowest product id), and the catalog version.
CREATE OR REPLACE FUNCTION search_suggest(
    q text, wanted integer, OUT catalog_version bigint, OUT product_ids bigint[]
)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    key text := search_normalize(q);
    containing bigint[];
BEGIN
    catalog_version := (SELECT coalesce(max(c.version), 0) FROM search_catalog c);
    product_ids := '{}';
    IF key = '' THEN
        RETURN;
    END IF;
    EXECUTE format(
        'SELECT ARRAY(SELECT min(d.product_id) FROM search_document d WHERE d.title_key LIKE %L'
        ' GROUP BY d.title_key ORDER BY d.title_key LIMIT %s)',
        key || '%', wanted
    ) INTO product_ids;
    IF cardinality(product_ids) < wanted THEN
        EXECUTE format(
            'SELECT ARRAY(SELECT min(d.product_id) FROM search_document d'
            ' WHERE d.title_key LIKE %L AND d.title_key NOT LIKE %L'
            ' GROUP BY d.title_key ORDER BY d.title_key LIMIT %s)',
            '%' || key || '%', key || '%', wanted - cardinality(product_ids)
        ) INTO containing;
        product_ids := product_ids || containing;
    END IF;
END
$$;
