-- PROTOTYPE, bench-only (installed into the bench database by bench/run.py, never elsewhere;
-- not landed in the app): the whole order transaction in one statement, so the inventory rows
-- stay locked only while PostgreSQL runs it, never while Python runs. Same tables, rows
-- (order with its stored totals, items with shortfalls, outbox row), rules and lock order as
-- storefront.orders.services.order_place; returns the order as the API renders it.
-- No Idempotency-Key support: the bench does not send one.
CREATE OR REPLACE FUNCTION bench_order_place(
    p_store bigint, p_products bigint[], p_quantities integer[], p_email text
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_short integer[];
    v_confirmed boolean;
    v_order bigint;
    v_created timestamptz := now();
    v_outbox bigint;
    v_total numeric;
BEGIN
    IF (SELECT count(*) FROM catalog_product WHERE id = ANY (p_products))
        <> cardinality(p_products) THEN
        RAISE EXCEPTION 'unknown product' USING ERRCODE = 'P0002';
    END IF;
    -- The locking protocol of order_place: the store's rows, in ascending product id order.
    PERFORM 1 FROM stores_inventory
     WHERE store_id = p_store AND product_id = ANY (p_products)
     ORDER BY product_id FOR UPDATE;
    SELECT array_agg(GREATEST(0, w.q - COALESCE(i.quantity, 0)) ORDER BY w.n)
      INTO v_short
      FROM unnest(p_products, p_quantities) WITH ORDINALITY AS w(p, q, n)
      LEFT JOIN stores_inventory i ON i.store_id = p_store AND i.product_id = w.p;
    v_confirmed := NOT (0 < ANY (v_short));
    SELECT sum(w.q * pr.price) INTO v_total
      FROM unnest(p_products, p_quantities) AS w(p, q)
      JOIN catalog_product pr ON pr.id = w.p;

    INSERT INTO orders_order (store_id, status, email, created_at, total_items, total_amount)
    VALUES (p_store, CASE WHEN v_confirmed THEN 'CONFIRMED' ELSE 'REJECTED' END, p_email,
            v_created, (SELECT sum(q) FROM unnest(p_quantities) AS q), v_total)
    RETURNING id INTO v_order;
    INSERT INTO orders_orderitem (order_id, product_id, quantity, unit_price, shortfall)
    SELECT v_order, w.p, w.q, pr.price, w.s
      FROM unnest(p_products, p_quantities, v_short) AS w(p, q, s)
      JOIN catalog_product pr ON pr.id = w.p;
    IF v_confirmed THEN
        UPDATE stores_inventory i
           SET quantity = i.quantity - w.q, updated_at = v_created
          FROM unnest(p_products, p_quantities) AS w(p, q)
         WHERE i.store_id = p_store AND i.product_id = w.p;
        INSERT INTO notifications_orderemail
            (order_id, status, recipient, attempts, last_error, created_at, updated_at)
        VALUES (v_order, 'PENDING', '', 0, '', v_created, v_created)
        RETURNING id INTO v_outbox;
    END IF;

    RETURN (
        SELECT jsonb_build_object(
            'id', v_order, 'store', p_store,
            'status', CASE WHEN v_confirmed THEN 'CONFIRMED' ELSE 'REJECTED' END,
            'email', p_email,
            'items', jsonb_agg(jsonb_build_object(
                'product_id', pr.id, 'title', pr.title, 'quantity', w.q,
                'unit_price', pr.price::text, 'line_total', (w.q * pr.price)::text) ORDER BY w.n),
            'total', v_total::text,
            'shortfalls', COALESCE(jsonb_agg(jsonb_build_object(
                'product_id', pr.id, 'requested', w.q, 'available', w.q - w.s,
                'missing', w.s) ORDER BY w.n) FILTER (WHERE w.s > 0), '[]'::jsonb),
            'created_at', v_created, 'cancelled_at', NULL,
            'outbox_id', v_outbox)
          FROM unnest(p_products, p_quantities, v_short) WITH ORDINALITY AS w(p, q, s, n)
          JOIN catalog_product pr ON pr.id = w.p
    );
END
$$;
