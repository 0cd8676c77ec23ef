-- Stock changes, owned by the inventory app: storefront/inventory/services.py calls them from
-- Python, and orders_place (storefront/orders/sql/orders_place.sql) composes inventory_take into
-- the one statement that places an order. Installed by inventory migrations; a change here
-- ships with a new migration that runs this file again.
--
-- The ledger (docs/inventory.md): every change of a stock row's quantity is made by
-- inventory_change, which writes the row's movement in the same statement, so that for each
-- (store, product) the movements' deltas add up to the quantity at every commit.

-- The one place stock rows are locked: the store's rows for these products, in ascending
-- product id, so that two transactions needing the same rows queue behind each other instead
-- of deadlocking. Returns the locked rows' quantities in their newest versions (under READ
-- COMMITTED a row we waited for is read again once its holder commits).
-- p_create: the missing rows are created first (quantity 0: they hold nothing, so they need no
-- movement), in the same order, so that they are locked too; a concurrent creator of the same
-- row makes us wait for its outcome. A caller that creates rows and then refuses the change
-- rolls its transaction back, which leaves nothing behind.
CREATE OR REPLACE FUNCTION inventory_lock(p_store bigint, p_products bigint[], p_create boolean)
RETURNS TABLE (product_id bigint, quantity integer)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
BEGIN
    IF p_create THEN
        -- NOT EXISTS first: ON CONFLICT alone would draw an id for every existing row.
        INSERT INTO stores_inventory (store_id, product_id, quantity, updated_at)
        SELECT p_store, w.id, 0, now()
        FROM unnest(p_products) AS w (id)
        WHERE NOT EXISTS (
            SELECT 1 FROM stores_inventory i WHERE i.store_id = p_store AND i.product_id = w.id
        )
        ORDER BY w.id
        ON CONFLICT (store_id, product_id) DO NOTHING;
    END IF;

    RETURN QUERY
    SELECT i.product_id, i.quantity
    FROM stores_inventory i
    WHERE i.store_id = p_store AND i.product_id = ANY (p_products)
    ORDER BY i.product_id
    FOR UPDATE;
END
$$;

-- Adds p_deltas[k] (signed) to the store's row of p_products[k] (distinct ids), rows the caller
-- locked with inventory_lock, and writes one movement per row with the quantity it left: the
-- only statement that changes a stock row's quantity. A 0 delta leaves the row untouched (a
-- sync mostly repeats what the rows hold) and records its quantity. Returns each row's
-- movement id; fails if a row is missing rather than skip it.
CREATE OR REPLACE FUNCTION inventory_change(
    p_store bigint,
    p_products bigint[],
    p_deltas integer[],
    p_reason text,
    p_order bigint,
    p_reference text,
    p_user integer,
    p_now timestamptz
) RETURNS TABLE (product_id bigint, movement bigint)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    v_changed bigint;
BEGIN
    RETURN QUERY
    WITH changed AS (
        UPDATE stores_inventory i
        SET quantity = i.quantity + w.delta, updated_at = p_now
        FROM unnest(p_products, p_deltas) AS w (product_id, delta)
        WHERE i.store_id = p_store AND i.product_id = w.product_id AND w.delta <> 0
        RETURNING i.product_id, i.quantity
    )
    INSERT INTO inventory_stockmovement AS m
        (store_id, product_id, delta, quantity_after, reason, order_id, reference,
         created_by_id, created_at)
    SELECT p_store, w.product_id, w.delta, w.quantity_after, p_reason, p_order, p_reference,
           p_user, p_now
    FROM (
        -- The untouched rows' quantity is read only for them (coalesce stops at the first
        -- value); they are locked, so it is the one the row keeps.
        SELECT w.product_id, w.delta, coalesce(
            c.quantity,
            (SELECT i.quantity FROM stores_inventory i
             WHERE w.delta = 0 AND i.store_id = p_store AND i.product_id = w.product_id)
        ) AS quantity_after
        FROM unnest(p_products, p_deltas) AS w (product_id, delta)
        LEFT JOIN changed c ON c.product_id = w.product_id
    ) w
    WHERE w.quantity_after IS NOT NULL
    ORDER BY w.product_id
    RETURNING m.product_id, m.id;
    GET DIAGNOSTICS v_changed = ROW_COUNT;
    IF v_changed <> cardinality(p_products) THEN
        RAISE EXCEPTION 'inventory_change: % of % stock rows exist', v_changed,
            cardinality(p_products);
    END IF;
END
$$;

-- Adds p_deltas[k] to p_products[k] (distinct ids) in the store: every line or none. The
-- quantities it decides on are read under the lock, never before; a line is refused when it
-- would leave its row below 0 (a missing row holds 0) or above the column's largest integer. Returns each line, in the order given,
-- with the units available before (0 where the store has no row) and its movement id, NULL on
-- every line when the change was refused and nothing changed. p_create: see inventory_lock.
CREATE OR REPLACE FUNCTION inventory_adjust(
    p_store bigint,
    p_products bigint[],
    p_deltas integer[],
    p_reason text,
    p_order bigint,
    p_reference text,
    p_user integer,
    p_now timestamptz,
    p_create boolean
) RETURNS TABLE (product_id bigint, available integer, movement bigint)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    v_available integer[];
    v_movements bigint[];
BEGIN
    SELECT array_agg(COALESCE(l.quantity, 0) ORDER BY w.position) INTO v_available
    FROM unnest(p_products) WITH ORDINALITY AS w (product_id, position)
    LEFT JOIN inventory_lock(p_store, p_products, p_create) AS l ON l.product_id = w.product_id;

    IF NOT EXISTS (
        SELECT 1 FROM unnest(p_deltas, v_available) AS x (delta, available)
        WHERE NOT x.available::bigint + x.delta BETWEEN 0 AND 2147483647
    ) THEN
        SELECT array_agg(c.movement ORDER BY w.position) INTO v_movements
        FROM unnest(p_products) WITH ORDINALITY AS w (product_id, position)
        JOIN inventory_change(
            p_store, p_products, p_deltas, p_reason, p_order, p_reference, p_user, p_now
        ) AS c ON c.product_id = w.product_id;
    END IF;

    RETURN QUERY SELECT * FROM unnest(p_products, v_available, v_movements);
END
$$;

-- Sets the store's rows of p_products[k] (distinct ids) to p_quantities[k] (>= 0), creating the
-- missing ones: a count. Each delta is computed under the lock, and a line that changes nothing
-- is recorded too (the count happened). Returns each line as inventory_adjust does.
CREATE OR REPLACE FUNCTION inventory_set(
    p_store bigint,
    p_products bigint[],
    p_quantities integer[],
    p_reason text,
    p_reference text,
    p_user integer,
    p_now timestamptz
) RETURNS TABLE (product_id bigint, available integer, movement bigint)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    v_available integer[];
    v_deltas integer[];
BEGIN
    SELECT array_agg(l.quantity ORDER BY w.position),
           array_agg(w.quantity - l.quantity ORDER BY w.position)
    INTO v_available, v_deltas
    FROM unnest(p_products, p_quantities) WITH ORDINALITY AS w (product_id, quantity, position)
    JOIN inventory_lock(p_store, p_products, true) AS l ON l.product_id = w.product_id;

    RETURN QUERY
    SELECT w.product_id, w.available, c.movement
    FROM unnest(p_products, v_available) WITH ORDINALITY AS w (product_id, available, position)
    JOIN inventory_change(
        p_store, p_products, v_deltas, p_reason, NULL, p_reference, p_user, p_now
    ) AS c ON c.product_id = w.product_id
    ORDER BY w.position;
END
$$;

-- Takes p_quantities[k] units of p_products[k] (distinct ids) from the store for order p_order:
-- every line or none (inventory_adjust). Returns each line with the units available before the
-- take; the take happened exactly when every line had enough.
CREATE OR REPLACE FUNCTION inventory_take(
    p_store bigint,
    p_products bigint[],
    p_quantities integer[],
    p_order bigint,
    p_user integer,
    p_now timestamptz
) RETURNS TABLE (product_id bigint, requested integer, available integer)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT a.product_id, w.requested, a.available
    FROM unnest(p_quantities) WITH ORDINALITY AS w (requested, position)
    JOIN inventory_adjust(
        p_store, p_products, ARRAY(SELECT -u.q FROM unnest(p_quantities) WITH ORDINALITY AS u (q, o) ORDER BY u.o),
        'order', p_order, '', p_user, p_now, false
    ) WITH ORDINALITY AS a (product_id, available, movement, position) USING (position);
END
$$;

-- Puts the units of cancelled order p_order back on the store's shelf; a row deleted since
-- comes back holding them.
CREATE OR REPLACE FUNCTION inventory_return(
    p_store bigint,
    p_products bigint[],
    p_quantities integer[],
    p_order bigint,
    p_user integer,
    p_now timestamptz
) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM inventory_adjust(
            p_store, p_products, p_quantities, 'cancel', p_order, '', p_user, p_now, true
        ) AS a WHERE a.movement IS NULL
    ) THEN
        RAISE EXCEPTION 'inventory_return: store % cannot hold the returned units', p_store;
    END IF;
END
$$;
