from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

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
    """The store's orders, newest first: a walk down order_store_newest_idx.

    The totals were stored on the order when it was placed, so no page joins or aggregates
    the items (a deep page used to aggregate every order of the store before its OFFSET).
    """
    return Order.objects.filter(store_id=store_id).order_by("-created_at", "-id")
