from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import DecimalField, F, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from storefront.orders.models import Order
from storefront.stores.selectors import store_is_managed_by


def order_detail(*, order_id: int) -> Order | None:
    """One order with its items and their products, in three queries."""
    return Order.objects.prefetch_related("items__product").filter(pk=order_id).first()


def order_visible_to(*, order: Order, user: AbstractBaseUser | AnonymousUser) -> bool:
    """The customer who placed it, and the store's staff, may look at an order."""
    if user.is_authenticated and order.placed_by_id == user.pk:
        return True
    return store_is_managed_by(store_id=order.store_id, user=user)


def order_list_for_store(*, store_id: int) -> QuerySet[Order]:
    """The store's orders, newest first, totals computed by the database (no N+1)."""
    return (
        Order.objects.filter(store_id=store_id)
        .annotate(
            total_items=Coalesce(Sum("items__quantity"), 0),
            total_amount=Coalesce(
                Sum(F("items__quantity") * F("items__unit_price")),
                Value(0),
                output_field=DecimalField(max_digits=20, decimal_places=2),
            ),
        )
        .order_by("-created_at", "-id")
    )
