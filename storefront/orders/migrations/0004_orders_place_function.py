"""The order placement statement as a PL/pgSQL function, planned once per connection.

Sent as a prepared statement, the statement was planned again on every order: its array
parameters (product ids, quantities) give custom plans a lower estimate than the generic plan,
so PostgreSQL kept choosing them, and planning took about half of its CPU per order. The
function runs it with `plan_cache_mode = force_generic_plan`: one plan per connection, reused.
The statement itself is described in storefront/orders/placement_sql.py; a later change to it,
or to a table it writes, is a new migration replacing this function.

PostgreSQL only: other databases (SQLite, embedded mode) place orders through the ORM.
"""

from django.db import migrations

CREATE = """
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
    store_found boolean,
    order_id bigint,
    confirmed boolean,
    product_id bigint,
    title text,
    price numeric,
    quantity integer,
    available integer
)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
RETURN QUERY
WITH wanted AS (
    SELECT w.product_id, w.quantity, p.title, p.price
    FROM unnest(p_products, p_quantities) AS w (product_id, quantity)
    LEFT JOIN catalog_product p ON p.id = w.product_id
),
checks AS (
    SELECT EXISTS (SELECT 1 FROM stores_store WHERE id = p_store) AS store_found,
           bool_and(price IS NOT NULL) AS products_found,
           sum(quantity) AS total_items,
           sum(quantity * price) AS total_amount
    FROM wanted
),
claimed_key AS (
    INSERT INTO orders_idempotencykey (key, fingerprint, order_id, created_at)
    SELECT p_key, p_fingerprint, nextval(pg_get_serial_sequence('orders_order', 'id')), p_now
    FROM checks WHERE store_found AND products_found AND p_key IS NOT NULL
    ON CONFLICT (key) DO NOTHING
    RETURNING order_id
),
claim AS (
    SELECT order_id FROM claimed_key
    UNION ALL
    SELECT nextval(pg_get_serial_sequence('orders_order', 'id'))
    FROM checks WHERE store_found AND products_found AND p_key IS NULL
),
locked AS (
    SELECT i.product_id, i.quantity
    FROM stores_inventory i
    WHERE i.store_id = p_store AND i.product_id = ANY (p_products)
      AND EXISTS (SELECT 1 FROM claim)
    ORDER BY i.product_id
    FOR UPDATE
),
lines AS (
    SELECT w.product_id, w.quantity, w.title, w.price, COALESCE(l.quantity, 0) AS available
    FROM wanted w LEFT JOIN locked l USING (product_id)
),
decision AS (
    SELECT c.order_id, bool_and(l.available >= l.quantity) AS confirmed
    FROM claim c CROSS JOIN lines l
    GROUP BY c.order_id
),
new_order AS (
    INSERT INTO orders_order
        (id, store_id, status, email, placed_by_id, created_at, total_items, total_amount)
    SELECT d.order_id, p_store,
           CASE WHEN d.confirmed THEN 'CONFIRMED' ELSE 'REJECTED' END,
           p_email, p_placed_by, p_now, k.total_items, k.total_amount
    FROM decision d CROSS JOIN checks k
),
items AS (
    INSERT INTO orders_orderitem (order_id, product_id, quantity, unit_price, shortfall)
    SELECT d.order_id, l.product_id, l.quantity, l.price,
           CASE WHEN d.confirmed THEN 0 ELSE GREATEST(l.quantity - l.available, 0) END
    FROM decision d CROSS JOIN lines l
),
taken AS (
    UPDATE stores_inventory i
    SET quantity = i.quantity - l.quantity, updated_at = p_now
    FROM decision d CROSS JOIN lines l
    WHERE d.confirmed AND i.store_id = p_store AND i.product_id = l.product_id
),
outbox AS (
    INSERT INTO notifications_orderemail
        (order_id, status, recipient, attempts, last_error, created_at, updated_at)
    SELECT d.order_id, 'PENDING', '', 0, '', p_now, p_now
    FROM decision d WHERE d.confirmed
)
SELECT k.store_found, d.order_id, d.confirmed,
       l.product_id, l.title::text, l.price, l.quantity, l.available
FROM checks k
LEFT JOIN decision d ON true
LEFT JOIN lines l ON true
ORDER BY l.product_id;
END
$$
"""

DROP = (
    "DROP FUNCTION IF EXISTS "
    "orders_place(bigint, bigint[], integer[], text, integer, timestamptz, text, text)"
)


def on_postgresql(sql: str):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_order_totals"),
        ("catalog", "0003_product_listing_indexes"),
        ("stores", "0003_inventory_product_title_key"),
        ("notifications", "0001_initial"),
    ]

    operations = [migrations.RunPython(on_postgresql(CREATE), on_postgresql(DROP))]
