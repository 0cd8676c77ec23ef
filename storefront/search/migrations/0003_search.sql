-- Product search and suggestions, each one function called in one round trip
-- (storefront/search/selectors.py); docs/search.md explains the method. Installed by search
-- migrations; a change here ships with a new migration that runs this file again.
--
-- Queries are built as text and run with EXECUTE so that each is planned for its own values (a
-- LIKE pattern known to the planner uses the trigram and B-tree indexes). Every value enters
-- the text through format('%L'), which quotes it; words hold only letters and digits
-- (search_normalize), so they are also literal inside LIKE patterns and regular expressions.

-- The words of a query, normalized as the catalog's keys are.
CREATE OR REPLACE FUNCTION search_words(q text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_remove(string_to_array(search_normalize(q), ' '), ''), '{}')
$$;

-- Which documents match: every word is a substring of the title or the description. A query
-- of no letters or digits ("%", "-") is one literal substring of the title or description.
CREATE OR REPLACE FUNCTION search_match_sql(words text[], literal text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN cardinality(words) > 0 THEN (
            SELECT string_agg(format('d.text_key LIKE %L', '%' || w || '%'), ' AND ')
            FROM unnest(words) AS w
        )
        WHEN literal <> '' THEN format(
            'd.product_id IN (SELECT p.id FROM catalog_product p'
            ' WHERE strpos(upper(p.title), %1$L) > 0 OR strpos(upper(p.description), %1$L) > 0)',
            upper(literal)
        )
        ELSE 'true'
    END
$$;

-- The relevance tiers, the one definition (docs/search.md, "Relevance"): 1 the title starts
-- with the words in the order typed, each the start of consecutive title words; 2 a later
-- title word does; 3 every word starts some title word; 4 every word is in the title; 5 the
-- rest of the matches (a word only in the description).
CREATE OR REPLACE FUNCTION search_tier_sql(words text[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN cardinality(words) = 0 THEN '1' ELSE format(
        'CASE WHEN d.title_key ~ %L THEN 1 WHEN d.title_key ~ %L THEN 2'
        ' WHEN %s THEN 3 WHEN %s THEN 4 ELSE 5 END',
        '^' || array_to_string(words, '[^ ]* '),
        ' ' || array_to_string(words, '[^ ]* '),
        (SELECT string_agg(format('strpos('' '' || d.title_key, %L) > 0', ' ' || w), ' AND ')
         FROM unnest(words) AS w),
        (SELECT string_agg(format('strpos(d.title_key, %L) > 0', w), ' AND ')
         FROM unnest(words) AS w)
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
        -- Stock is read live (inventory_in_stock_idx), never copied: exact at commit.
        CASE WHEN in_stock THEN concat(
            ' AND EXISTS (SELECT 1 FROM stores_inventory i',
            ' WHERE i.product_id = d.product_id AND i.quantity > 0',
            CASE WHEN store IS NOT NULL THEN format(' AND i.store_id = %L', store) END,
            ')'
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

-- How many documents meet `condition`, counting at most `cap`.
CREATE OR REPLACE FUNCTION search_count(condition text, cap integer) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found bigint;
BEGIN
    EXECUTE format(
        'SELECT count(*) FROM (SELECT 1 FROM search_document d WHERE %s LIMIT %s) AS s',
        condition, cap
    ) INTO found;
    RETURN found;
END
$$;

-- The estimated number of documents meeting `condition`: 10 x their count on a fixed 10 %
-- of the table's pages (TABLESAMPLE SYSTEM, the same pages every time for the same table). A
-- page sample reads contiguous pages, which is what makes it cheap; it assumes matches are not
-- clustered by page (the order products were inserted in).
CREATE OR REPLACE FUNCTION search_estimate(condition text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found bigint;
BEGIN
    EXECUTE format(
        'SELECT count(*) * 10 FROM search_document d TABLESAMPLE SYSTEM (10) REPEATABLE (0)'
        ' WHERE %s',
        condition
    ) INTO found;
    RETURN found;
END
$$;

-- The number of documents meeting `condition`, and whether it is exact: exact up to
-- `exact_up_to`, estimated above (search_estimate). Counting reads a row per match, so it reads
-- at most 1,000 first (most searches stop there), then the page sample, and counts up to the
-- bound only when the sample does not put the number above 1.25 times the bound (the sample is
-- within 10 % in the tests; an overestimate by a quarter would be needed to miss an exact count).
CREATE OR REPLACE FUNCTION search_counted(
    condition text, exact_up_to integer, OUT total bigint, OUT exact boolean
)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    probe integer := least(1000, exact_up_to);
    counted bigint := search_count(condition, probe + 1);
    estimated bigint;
BEGIN
    IF counted > probe THEN
        estimated := search_estimate(condition);
        counted := CASE WHEN estimated > 1.25 * exact_up_to THEN exact_up_to + 1
            ELSE search_count(condition, exact_up_to + 1) END;
    END IF;
    exact := counted <= exact_up_to;
    total := CASE WHEN exact THEN counted ELSE greatest(exact_up_to + 1, estimated) END;
END
$$;

-- The ids of the documents meeting `condition`, in `order_by`, from `skip` on, at most `take`.
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

-- The first `take` documents meeting `condition` in title order, read along
-- search_document_title_idx. For a tier known to hold 1,000 documents or more, which are then
-- dense enough for the walk to stop early: the planner, misjudging the tier's CASE condition,
-- would rather read and sort the whole tier (107 ms against 8 ms for q=laptop at 1M).
CREATE OR REPLACE FUNCTION search_title_walk(condition text, take integer) RETURNS bigint[]
LANGUAGE plpgsql STABLE
SET enable_bitmapscan = off SET enable_sort = off
AS $$
BEGIN
    RETURN search_ordered_ids(condition, 'd.title_key, d.product_id', 0, take);
END
$$;

-- A condition on the title implied by being in tier `tier_number` (1-4), which the title's
-- indexes serve (a range of search_document_title_idx, search_document_title_trgm_idx): tiers
-- 1-4 are decided by the title alone. NULL for tier 5.
CREATE OR REPLACE FUNCTION search_tier_hint_sql(words text[], tier_number integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN cardinality(words) = 0 OR tier_number = 5 THEN NULL
        WHEN tier_number = 1 THEN format('d.title_key LIKE %L', words[1] || '%')
        WHEN tier_number = 2 THEN format('d.title_key LIKE %L', '% ' || words[1] || '%')
        ELSE (SELECT string_agg(format('d.title_key LIKE %L', '%' || w || '%'), ' AND ')
              FROM unnest(words) AS w)
    END
$$;

-- Relevance order over more matches than are worth sorting: tier after tier, each in title
-- order, until the page is full. A tier of fewer than 1,000 documents is sorted; a larger one
-- is read along search_document_title_idx, where its documents are dense enough to stop early.
-- Tiers 1-4 are read by their title conditions alone (they imply the match).
CREATE OR REPLACE FUNCTION search_ranked_ids(
    words text[], match text, filters text, skip integer, take integer
) RETURNS bigint[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found bigint[] := '{}';
    tier text := search_tier_sql(words);
    in_tier text;
    candidates bigint;
    sorted bigint[];
BEGIN
    FOR tier_number IN 1..5 LOOP
        EXIT WHEN cardinality(found) >= skip + take;
        CONTINUE WHEN tier_number = 3 AND cardinality(words) = 1;  -- tiers 1 and 2 hold it
        in_tier := format(
            '%s%s AND (%s) = %s',
            coalesce(search_tier_hint_sql(words, tier_number), match), filters, tier, tier_number
        );
        EXECUTE format(
            'SELECT count(*), array_agg(id ORDER BY key, id) FROM ('
            'SELECT d.product_id AS id, d.title_key AS key FROM search_document d'
            ' WHERE %s LIMIT 1000) AS s',
            in_tier
        ) INTO candidates, sorted;
        IF candidates = 1000 THEN
            sorted := search_title_walk(in_tier, skip + take - cardinality(found));
        END IF;
        found := found || coalesce(sorted, '{}');
    END LOOP;
    RETURN found[skip + 1 : skip + take];
END
$$;

-- Typo tolerance: each word that starts no catalog word becomes the most similar catalog word
-- (pg_trgm similarity over search_word; ties by word).
CREATE OR REPLACE FUNCTION search_corrected(words text[]) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT array_agg(
        CASE
            WHEN (SELECT s.word FROM search_word s WHERE s.word >= w ORDER BY s.word LIMIT 1)
                 LIKE w || '%' THEN w
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

-- The facets of a search, from one read of the matches under every filter but the category
-- (`condition`): their category counts (disjunctive), and the price range and buckets of those
-- also in `category` when one is given. Exact when those matches were counted exactly;
-- otherwise read on the page sample of search_estimate and scaled by 10.
CREATE OR REPLACE FUNCTION search_facets(
    condition text, category bigint, exact boolean, want_categories boolean, want_prices boolean
) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    facets jsonb;
BEGIN
    EXECUTE format(
        'WITH m AS MATERIALIZED (SELECT d.category_id, d.price FROM search_document d %6$s'
        ' WHERE %1$s),'
        ' p AS (SELECT m.price FROM m WHERE %2$s),'
        ' bounds AS (SELECT min(price) AS low, max(price) AS high,'
        '     search_price_width(min(price), max(price)) AS width FROM p)'
        ' SELECT jsonb_strip_nulls(jsonb_build_object('
        ' ''category'', CASE WHEN %3$L THEN (SELECT coalesce(jsonb_agg(jsonb_build_object('
        '     ''id'', c.id, ''name'', c.name, ''count'', f.n * %4$s) ORDER BY f.n DESC, c.name, c.id),'
        '     ''[]'') FROM (SELECT m.category_id, count(*) AS n FROM m GROUP BY 1) AS f'
        '     JOIN catalog_category c ON c.id = f.category_id) END,'
        ' ''price'', CASE WHEN %5$L THEN (SELECT jsonb_build_object(''min'', low::text,'
        '     ''max'', high::text, ''buckets'', coalesce((SELECT jsonb_agg(jsonb_build_object('
        '     ''from'', (b * width)::text, ''to'', ((b + 1) * width)::text,'
        '     ''count'', coalesce(f.n, 0) * %4$s) ORDER BY b)'
        '     FROM generate_series(floor(low / width)::bigint, floor(high / width)::bigint) AS b'
        '     LEFT JOIN (SELECT floor(p.price / width)::bigint AS bucket, count(*) AS n FROM p'
        '     GROUP BY 1) AS f ON f.bucket = b), ''[]'')) FROM bounds) END))',
        condition,
        CASE WHEN category IS NULL THEN 'true' ELSE format('m.category_id = %L', category) END,
        want_categories, CASE WHEN exact THEN 1 ELSE 10 END, want_prices,
        CASE WHEN exact THEN '' ELSE 'TABLESAMPLE SYSTEM (10) REPEATABLE (0)' END
    ) INTO facets;
    RETURN facets;
END
$$;

-- One search: the ids of the page (`take` of them from `skip` on), the number of matches
-- (exact up to `exact_up_to`, above it estimated: search_estimate), whether the words were
-- spelling-corrected, the facets asked for, and the catalog version all of it was read at.
-- `ordering` is effective: relevance only with words.
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
    corrected text[];
    filters text := search_filter_sql(min_price, max_price, category, store, in_stock);
    match text;
    without_category text;
BEGIN
    catalog_version := (SELECT coalesce(max(c.version), 0) FROM search_catalog c);
    match := search_match_sql(words, btrim(q));
    SELECT * INTO match_count, count_exact FROM search_counted(match || filters, exact_up_to);
    fuzzy := false;
    IF match_count = 0 AND cardinality(words) > 0 THEN
        fuzzy := true;
        corrected := search_corrected(words);
        IF corrected <> words THEN
            words := corrected;
            match := search_match_sql(words, NULL);
            SELECT * INTO match_count, count_exact
            FROM search_counted(match || filters, exact_up_to);
        END IF;
    END IF;
    IF count_exact OR ordering <> 'relevance' OR cardinality(words) = 0 THEN
        -- few enough to sort, or an order an index of search_document yields
        product_ids := search_ordered_ids(
            match || filters, search_order_sql(ordering, search_tier_sql(words)), skip, take
        );
    ELSE
        product_ids := search_ranked_ids(words, match, filters, skip, take);
    END IF;
    IF category_facet OR price_facet THEN
        without_category := search_match_sql(words, btrim(q))
            || search_filter_sql(min_price, max_price, NULL, store, in_stock);
        facets_exact := CASE WHEN category IS NULL THEN count_exact
            ELSE (search_counted(without_category, exact_up_to)).exact END;
        facets := search_facets(
            without_category, category, facets_exact, category_facet, price_facet
        );
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
