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

-- The vocabulary words containing `word` (search_word, through its trigram index for words
-- of three characters or more): what a query word matches in search_posting.
CREATE OR REPLACE FUNCTION search_vocabulary(word text) RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found text[];
BEGIN
    EXECUTE format(
        'SELECT ARRAY(SELECT s.word FROM search_word s WHERE s.word LIKE %L ORDER BY s.word)',
        '%' || word || '%'
    ) INTO found;
    RETURN found;
END
$$;

-- A query word's vocabulary above this many words is read from the documents instead of the
-- postings (a word of one or two letters is in most products: a walk of search_document).
CREATE OR REPLACE FUNCTION search_posting_words_max() RETURNS integer
LANGUAGE sql IMMUTABLE AS 'SELECT 100';

-- The products whose text holds one of `vocabulary`'s words, in product id order, each once:
-- one ordered range of search_posting_pkey per word, merged. `columns` are the postings'
-- columns selected (product_id first).
CREATE OR REPLACE FUNCTION search_word_stream_sql(vocabulary text[], columns text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN cardinality(vocabulary) = 1 THEN format(
        'SELECT %s FROM search_posting p WHERE p.word = %L ORDER BY p.product_id',
        columns, vocabulary[1]
    ) ELSE format(
        'SELECT DISTINCT ON (p.product_id) %1$s FROM (%2$s) AS p ORDER BY p.product_id',
        columns,
        (SELECT string_agg(format(
            '(SELECT %s FROM search_posting p WHERE p.word = %L ORDER BY p.product_id)',
            columns, v
        ), ' UNION ALL ') FROM unnest(vocabulary) AS v)
    ) END
$$;

-- The matches of a search in product id order, each once, with the columns facets read:
-- `SELECT product_id, price, category_id, title_key, created_at ...` (what filters, facets
-- and orders read). Each word is read from search_posting (the
-- products of the vocabulary words containing it, search_word_stream_sql) and the words'
-- streams are joined on the product id (merged: each is in id order); the filters are checked
-- on the first, whose price and category the postings hold. A word in more vocabulary words
-- than search_posting_words_max is checked on the document instead, and a query without words,
-- or whose longest word is such a word, walks search_document in id order.
CREATE OR REPLACE FUNCTION search_stream_sql(words text[], literal text, filters text)
RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    vocabularies text[] := '{}';  -- one vocabulary per word, each an array literal
    vocabulary text[];
    longest integer;
    streams text := '';
    checks text := '';
BEGIN
    IF cardinality(words) > 0 THEN
        longest := (SELECT n FROM unnest(words) WITH ORDINALITY AS t(w, n)
                    ORDER BY length(w) DESC, n LIMIT 1);
        FOR n IN 1..cardinality(words) LOOP
            vocabulary := search_vocabulary(words[n]);
            IF cardinality(vocabulary) = 0 THEN
                RETURN 'SELECT p.product_id, p.price, p.category_id, p.title_key, p.created_at'
                    ' FROM search_posting p WHERE false';
            END IF;
            vocabularies[n] := vocabulary::text;
        END LOOP;
    END IF;
    IF longest IS NULL
       OR cardinality(vocabularies[longest]::text[]) > search_posting_words_max() THEN
        RETURN format(
            'SELECT d.product_id, d.price, d.category_id, d.title_key, d.created_at'
            ' FROM search_document d WHERE %s%s ORDER BY d.product_id',
            search_match_sql(words, literal), filters
        );
    END IF;
    FOR n IN 1..cardinality(words) LOOP
        CONTINUE WHEN n = longest;
        IF cardinality(vocabularies[n]::text[]) > search_posting_words_max() THEN
            checks := checks || format(
                ' AND EXISTS (SELECT 1 FROM search_document t'
                ' WHERE t.product_id = d.product_id AND t.text_key LIKE %L)',
                '%' || words[n] || '%'
            );
        ELSE
            streams := streams || format(
                ' JOIN (%s) AS w%s ON w%2$s.product_id = d.product_id',
                search_word_stream_sql(vocabularies[n]::text[], 'p.product_id'), n
            );
        END IF;
    END LOOP;
    RETURN format(
        'SELECT d.product_id, d.price, d.category_id, d.title_key, d.created_at'
        ' FROM (%s) AS d%s WHERE true%s%s ORDER BY d.product_id',
        search_word_stream_sql(
            vocabularies[longest]::text[],
            'p.product_id, p.price, p.category_id, p.title_key, p.created_at'
        ),
        streams, filters, checks
    );
END
$$;

-- The number of matches of `stream` (search_stream_sql), whether it is exact, and how many
-- matches each of the first `exact_up_to` + 1 stands for. The stream is read in product id
-- order up to `exact_up_to` + 1 matches: at most `exact_up_to` is the exact count; otherwise the
-- count is extrapolated from how far into the catalog's ids the last one read lies (the
-- matches read are those of a prefix of the id range).
CREATE OR REPLACE FUNCTION search_counted(
    stream text, exact_up_to integer, OUT total bigint, OUT exact boolean, OUT scale numeric
)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    first_id bigint;
    last_id bigint;
BEGIN
    EXECUTE format(
        'SELECT count(*), max(s.product_id) FROM (%s LIMIT %s) AS s', stream, exact_up_to + 1
    ) INTO total, last_id;
    exact := total <= exact_up_to;
    scale := 1;
    IF NOT exact THEN
        first_id := (SELECT min(d.product_id) FROM search_document d);
        scale := ((SELECT max(d.product_id) FROM search_document d) - first_id + 1)::numeric
            / (last_id - first_id + 1);
        total := round(total * scale);
    END IF;
END
$$;

-- The ids of the documents meeting `condition`, in `order_by`, from `skip` on, at most `take`.
-- `condition` may name `$1`, which is `ids`.
CREATE OR REPLACE FUNCTION search_ordered_ids(
    condition text, order_by text, skip integer, take integer, ids bigint[] DEFAULT NULL
) RETURNS bigint[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found bigint[];
BEGIN
    EXECUTE format(
        'SELECT ARRAY(SELECT d.product_id FROM search_document d WHERE %s'
        ' ORDER BY %s OFFSET %s LIMIT %s)',
        condition, order_by, skip, take
    ) USING ids INTO found;
    RETURN found;
END
$$;

-- search_ordered_ids read along the index of `order_by` (title, price or created), for
-- matches dense enough for the walk to stop early (more than the exact count's bound, or a
-- relevance tier of 1,000 or more): the planner, misjudging LIKE and the tier's CASE, would
-- rather read and sort them all (107 ms against 8 ms for q=laptop's first tier at 1M;
-- 2.7 s against 20 ms for q=wireless&ordering=title).
CREATE OR REPLACE FUNCTION search_ordered_walk(
    condition text, order_by text, skip integer, take integer, ids bigint[] DEFAULT NULL
) RETURNS bigint[]
LANGUAGE plpgsql STABLE
SET enable_bitmapscan = off SET enable_sort = off
AS $$
BEGIN
    RETURN search_ordered_ids(condition, order_by, skip, take, ids);
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
            sorted := search_ordered_walk(
                in_tier, search_order_sql('title', NULL), 0, skip + take - cardinality(found)
            );
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

-- The facets of a search, from the first `take` matches of `stream` (search_stream_sql under
-- every filter but the category), each standing for `scale` matches (1 when they are all of
-- them; search_counted): their category counts (disjunctive), and the price range and buckets
-- of those also in `category` when one is given.
CREATE OR REPLACE FUNCTION search_facets(
    stream text, take integer, scale numeric, category bigint,
    want_categories boolean, want_prices boolean
) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    facets jsonb;
BEGIN
    EXECUTE format(
        'WITH m AS MATERIALIZED (SELECT s.category_id, s.price FROM (%1$s LIMIT %6$s) AS s),'
        ' p AS (SELECT m.price FROM m WHERE %2$s),'
        ' bounds AS (SELECT min(price) AS low, max(price) AS high,'
        '     search_price_width(min(price), max(price)) AS width FROM p)'
        ' SELECT jsonb_strip_nulls(jsonb_build_object('
        ' ''category'', CASE WHEN %3$L THEN (SELECT coalesce(jsonb_agg(jsonb_build_object('
        '     ''id'', c.id, ''name'', c.name, ''count'', round(f.n * %4$s))'
        '     ORDER BY f.n DESC, c.name, c.id), ''[]'')'
        '     FROM (SELECT m.category_id, count(*) AS n FROM m GROUP BY 1) AS f'
        '     JOIN catalog_category c ON c.id = f.category_id) END,'
        ' ''price'', CASE WHEN %5$L THEN (SELECT jsonb_build_object(''min'', low::text,'
        '     ''max'', high::text, ''buckets'', coalesce((SELECT jsonb_agg(jsonb_build_object('
        '     ''from'', (b * width)::text, ''to'', ((b + 1) * width)::text,'
        '     ''count'', round(coalesce(f.n, 0) * %4$s)) ORDER BY b)'
        '     FROM generate_series(floor(low / width)::bigint, floor(high / width)::bigint) AS b'
        '     LEFT JOIN (SELECT floor(p.price / width)::bigint AS bucket, count(*) AS n FROM p'
        '     GROUP BY 1) AS f ON f.bucket = b), ''[]'')) FROM bounds) END))',
        stream,
        CASE WHEN category IS NULL THEN 'true' ELSE format('m.category_id = %L', category) END,
        want_categories, scale, want_prices, take
    ) INTO facets;
    RETURN facets;
END
$$;

-- One search: the ids of the page (`take` of them from `skip` on), the number of matches
-- (exact up to `exact_up_to`, above it estimated: search_counted), whether the words were
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
    literal text := btrim(q);
    corrected text[];
    filters text := search_filter_sql(min_price, max_price, category, store, in_stock);
    stream text := search_stream_sql(words, literal, filters);
    without_category text;
    matched bigint[];
    facet_scale numeric;
BEGIN
    catalog_version := (SELECT coalesce(max(c.version), 0) FROM search_catalog c);
    SELECT c.total, c.exact INTO match_count, count_exact
    FROM search_counted(stream, exact_up_to) AS c;
    fuzzy := false;
    IF match_count = 0 AND cardinality(words) > 0 THEN
        fuzzy := true;
        corrected := search_corrected(words);
        IF corrected <> words THEN
            words := corrected;
            stream := search_stream_sql(words, literal, filters);
            SELECT c.total, c.exact INTO match_count, count_exact
            FROM search_counted(stream, exact_up_to) AS c;
        END IF;
    END IF;
    IF count_exact THEN
        -- at most exact_up_to matches: the stream's rows, which hold every order's columns,
        -- sorted whole
        EXECUTE format(
            'SELECT ARRAY(SELECT d.product_id FROM (%s) AS d ORDER BY %s OFFSET %s LIMIT %s)',
            stream, search_order_sql(ordering, search_tier_sql(words)), skip, take
        ) INTO product_ids;
    ELSIF ordering = 'relevance' THEN
        product_ids := search_ranked_ids(
            words, search_match_sql(words, literal), filters, skip, take
        );
    ELSIF ordering = 'title' THEN
        -- Titles cluster by their first word (q=wireless: every match past 94 % of title
        -- order), so a walk checking each document can read most of the catalog: the walk is
        -- index-only instead, against all the matches' ids (hashed).
        EXECUTE format('SELECT array_agg(s.product_id) FROM (%s) AS s', stream) INTO matched;
        product_ids := search_ordered_walk(
            'd.product_id = ANY($1)', search_order_sql(ordering, NULL), skip, take, matched
        );
    ELSE
        product_ids := search_ordered_walk(
            search_match_sql(words, literal) || filters, search_order_sql(ordering, NULL),
            skip, take
        );
    END IF;
    IF category_facet OR price_facet THEN
        without_category := search_stream_sql(
            words, literal, search_filter_sql(min_price, max_price, NULL, store, in_stock)
        );
        SELECT c.exact, c.scale INTO facets_exact, facet_scale
        FROM search_counted(without_category, exact_up_to) AS c;
        facets := search_facets(
            without_category, exact_up_to + 1, facet_scale, category, category_facet, price_facet
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
