-- The confirmation-email outbox, owned by the notifications app. orders_place calls this in the
-- order's own transaction, so a committed CONFIRMED order always has its PENDING row and a
-- rolled-back one never does. Installed by notifications migrations; a change here ships with a
-- new migration that runs this file again.
CREATE OR REPLACE FUNCTION notifications_order_email_enqueue(p_order bigint, p_now timestamptz)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO notifications_orderemail
        (order_id, status, recipient, attempts, last_error, created_at, updated_at)
    VALUES (p_order, 'PENDING', '', 0, '', p_now, p_now);
END
$$;
