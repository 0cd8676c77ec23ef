-- An order placed by one call, which is its own transaction when run in autocommit (as
-- storefront.orders.services runs it): the stock rows stay locked only while PostgreSQL works,
-- never across a round trip to the client, which doubled hot-SKU throughput (docs/orders.md).
-- Stock and the outbox belong to other apps; this composes their functions (inventory_take,
-- notifications_order_email_enqueue) and writes only orders' own tables. Installed by orders
-- migrations; a change here ships with a new migration that runs this file again.
--
-- p_products are distinct, in ascending id (the caller merges duplicate lines). Returns one row
-- per line, in that order, with the outcome on every row:
--   unknown_store     nothing written, no line rows
--   unknown_products  nothing written; title and price are NULL for the unknown products
--                     (archived ones included: they can no longer be ordered)
--   replayed          the buyer's p_key was claimed by an order that committed before:
--                     order_id is it
--   CONFIRMED         stock taken (with its ledger movements), order, items and outbox row
--                     written
--   REJECTED          no stock taken; order and items written with their shortfalls
-- `available` is what the store had of each line when it was locked (NULL when not placed);
-- `shortfall` and `total_amount` are the line's and the order's as stored (NULL when not
-- placed): the outcome is computed here only.
-- PostgreSQL plans the body once per connection (force_generic_plan): with custom plans it
-- planned every order again (about half of its CPU per order).
CREATE OR REPLACE FUNCTION orders_place(
    p_store bigint,
    p_products bigint[],
    p_quantities integer[],
    p_email text,
    p_placed_by integer,
    p_now timestamptz,
    p_key text,
    p_fingerprint text
) RETURNS TABLE (
    outcome text,
    order_id bigint,
    product_id bigint,
    title text,
    price numeric,
    quantity integer,
    available integer,
    shortfall integer,
    total_amount numeric
)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    v_titles text[];
    v_prices numeric[];
    v_available integer[];
    v_shortfalls integer[];
    v_total numeric;
    v_order bigint;
    v_confirmed boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM stores_store WHERE id = p_store) THEN
        outcome := 'unknown_store';
        RETURN NEXT;
        RETURN;
    END IF;

    SELECT array_agg(p.title::text ORDER BY w.position), array_agg(p.price ORDER BY w.position)
    INTO v_titles, v_prices
    FROM unnest(p_products) WITH ORDINALITY AS w (id, position)
    LEFT JOIN catalog_product p ON p.id = w.id AND p.archived_at IS NULL;
    IF array_position(v_prices, NULL) IS NOT NULL THEN
        RETURN QUERY
        SELECT 'unknown_products'::text, NULL::bigint, w.*, NULL::integer, NULL::integer,
               NULL::numeric
        FROM unnest(p_products, v_titles, v_prices, p_quantities) AS w;
        RETURN;
    END IF;

    -- Keys are the buyer's own (p_placed_by; anonymous buyers share NULL). A concurrent call
    -- with the same key waits here on the unique index until the first one commits (then this
    -- one replays its order) or rolls back (then this one places it).
    v_order := nextval(pg_get_serial_sequence('orders_order', 'id'));
    IF p_key IS NOT NULL THEN
        INSERT INTO orders_idempotencykey (owner_id, key, fingerprint, order_id, created_at)
        VALUES (p_placed_by, p_key, p_fingerprint, v_order, p_now)
        ON CONFLICT (owner_id, key) DO NOTHING;
        IF NOT FOUND THEN
            RETURN QUERY
            SELECT 'replayed'::text, k.order_id, NULL::bigint, NULL::text, NULL::numeric,
                   NULL::integer, NULL::integer, NULL::integer, NULL::numeric
            FROM orders_idempotencykey k
            WHERE k.key = p_key AND k.owner_id IS NOT DISTINCT FROM p_placed_by;
            RETURN;
        END IF;
    END IF;

    -- The take writes the ledger's movements under the order's id and buyer.
    SELECT array_agg(t.available) INTO v_available
    FROM inventory_take(p_store, p_products, p_quantities, v_order, p_placed_by, p_now) AS t;
    v_confirmed := NOT EXISTS (
        SELECT 1 FROM unnest(p_quantities, v_available) AS x (wanted, had)
        WHERE x.had < x.wanted
    );

    SELECT array_agg(CASE WHEN v_confirmed THEN 0 ELSE GREATEST(w.quantity - w.available, 0) END
                     ORDER BY w.position),
           sum(w.quantity * w.price)
    INTO v_shortfalls, v_total
    FROM unnest(p_quantities, v_prices, v_available) WITH ORDINALITY
        AS w (quantity, price, available, position);

    INSERT INTO orders_order
        (id, store_id, status, email, placed_by_id, created_at, total_items, total_amount)
    SELECT v_order, p_store, CASE WHEN v_confirmed THEN 'CONFIRMED' ELSE 'REJECTED' END,
           p_email, p_placed_by, p_now, sum(w.quantity), v_total
    FROM unnest(p_quantities) AS w (quantity);

    INSERT INTO orders_orderitem (order_id, product_id, quantity, unit_price, shortfall)
    SELECT v_order, w.product_id, w.quantity, w.price, w.shortfall
    FROM unnest(p_products, p_quantities, v_prices, v_shortfalls)
        AS w (product_id, quantity, price, shortfall);

    IF v_confirmed THEN
        PERFORM notifications_order_email_enqueue(v_order, p_now);
    END IF;

    RETURN QUERY
    SELECT (CASE WHEN v_confirmed THEN 'CONFIRMED' ELSE 'REJECTED' END)::text, v_order, w.*,
           v_total
    FROM unnest(p_products, v_titles, v_prices, p_quantities, v_available, v_shortfalls) AS w;
END
$$;
