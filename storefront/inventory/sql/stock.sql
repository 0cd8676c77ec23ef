-- Stock changes, owned by the inventory app: storefront/inventory/services.py calls them from
-- Python, and orders_place (storefront/orders/sql/orders_place.sql) composes inventory_take into
-- the one statement that places an order. Installed by inventory migrations; a change here
-- ships with a new migration that runs this file again.

-- The one place stock rows are locked: the store's rows for these products, in ascending
-- product id, so that two transactions needing the same rows queue behind each other instead
-- of deadlocking. Returns the locked rows' quantities in their newest versions (under READ
-- COMMITTED a row we waited for is read again once its holder commits).
CREATE OR REPLACE FUNCTION inventory_lock(p_store bigint, p_products bigint[])
RETURNS TABLE (product_id bigint, quantity integer)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT i.product_id, i.quantity
    FROM stores_inventory i
    WHERE i.store_id = p_store AND i.product_id = ANY (p_products)
    ORDER BY i.product_id
    FOR UPDATE;
END
$$;

-- Takes p_quantities[k] units of p_products[k] (distinct ids) from the store: every line or
-- none. The quantities it decides on are read under the lock, never before. Returns each line
-- with the units available before the take (0 where the store has no row); the take happened
-- exactly when every line had enough.
CREATE OR REPLACE FUNCTION inventory_take(
    p_store bigint, p_products bigint[], p_quantities integer[], p_now timestamptz
) RETURNS TABLE (product_id bigint, requested integer, available integer)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    v_available integer[];
BEGIN
    SELECT array_agg(COALESCE(l.quantity, 0) ORDER BY w.position) INTO v_available
    FROM unnest(p_products) WITH ORDINALITY AS w (product_id, position)
    LEFT JOIN inventory_lock(p_store, p_products) AS l ON l.product_id = w.product_id;

    IF NOT EXISTS (
        SELECT 1 FROM unnest(p_quantities, v_available) AS x (requested, available)
        WHERE x.available < x.requested
    ) THEN
        UPDATE stores_inventory i
        SET quantity = i.quantity - w.requested, updated_at = p_now
        FROM unnest(p_products, p_quantities) AS w (product_id, requested)
        WHERE i.store_id = p_store AND i.product_id = w.product_id;
    END IF;

    RETURN QUERY SELECT * FROM unnest(p_products, p_quantities, v_available);
END
$$;

-- Puts units back (a cancelled order) under the same lock; a row deleted since comes back
-- holding the returned units.
CREATE OR REPLACE FUNCTION inventory_return(
    p_store bigint, p_products bigint[], p_quantities integer[], p_now timestamptz
) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM FROM inventory_lock(p_store, p_products);
    INSERT INTO stores_inventory AS i (store_id, product_id, quantity, updated_at)
    SELECT p_store, w.product_id, w.quantity, p_now
    FROM unnest(p_products, p_quantities) AS w (product_id, quantity)
    ORDER BY w.product_id
    ON CONFLICT (store_id, product_id)
    DO UPDATE SET quantity = i.quantity + EXCLUDED.quantity, updated_at = EXCLUDED.updated_at;
END
$$;
