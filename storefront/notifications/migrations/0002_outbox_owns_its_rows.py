"""The outbox refers to an order by id only, and is written through its own SQL function.

The foreign key to orders_order goes (notifications depends on no other app's models; orders
are never deleted), the column and its unique constraint stay. `orders_place` writes the
PENDING row by calling notifications_order_email_enqueue (sql/outbox.sql).
"""

from django.db import migrations, models

from storefront.common.sql import run_sql_file

DROP_FOREIGN_KEY = """
DO $$
DECLARE name text;
BEGIN
    FOR name IN SELECT conname FROM pg_constraint
                WHERE conrelid = 'notifications_orderemail'::regclass AND contype = 'f'
    LOOP
        EXECUTE format('ALTER TABLE notifications_orderemail DROP CONSTRAINT %I', name);
    END LOOP;
END
$$
"""
ADD_FOREIGN_KEY = (
    "ALTER TABLE notifications_orderemail ADD CONSTRAINT notifications_orderemail_order_id_fk "
    "FOREIGN KEY (order_id) REFERENCES orders_order (id) DEFERRABLE INITIALLY DEFERRED"
)


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(DROP_FOREIGN_KEY, ADD_FOREIGN_KEY)],
            state_operations=[
                migrations.RemoveField(model_name="orderemail", name="order"),
                migrations.AddField(
                    model_name="orderemail",
                    name="order_id",
                    field=models.BigIntegerField(unique=True),
                ),
            ],
        ),
        run_sql_file(
            "notifications",
            "outbox.sql",
            reverse_sql="DROP FUNCTION notifications_order_email_enqueue(bigint, timestamptz)",
        ),
    ]
