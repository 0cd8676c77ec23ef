from decimal import Decimal

from django.db import migrations, models
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

MONEY = DecimalField(max_digits=20, decimal_places=2)


def backfill_totals(apps, schema_editor):
    """Existing orders get the sums the listing used to compute (one correlated UPDATE)."""
    Order = apps.get_model("orders", "Order")
    OrderItem = apps.get_model("orders", "OrderItem")
    items = OrderItem.objects.filter(order=OuterRef("pk")).order_by().values("order")
    Order.objects.update(
        total_items=Coalesce(Subquery(items.annotate(n=Sum("quantity")).values("n")), 0),
        total_amount=Coalesce(
            Subquery(
                items.annotate(
                    amount=Sum(F("quantity") * F("unit_price"), output_field=MONEY)
                ).values("amount")
            ),
            Value(Decimal("0")),
            output_field=MONEY,
        ),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_order_shortfall_cancel_idempotency"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="total_amount",
            field=models.DecimalField(db_default=Decimal("0"), decimal_places=2, max_digits=20),
        ),
        migrations.AddField(
            model_name="order",
            name="total_items",
            field=models.PositiveIntegerField(db_default=0),
        ),
        migrations.RunPython(backfill_totals, migrations.RunPython.noop, elidable=True),
    ]
