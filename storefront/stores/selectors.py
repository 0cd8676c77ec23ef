from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from storefront.stores.models import Inventory, Store


def store_exists(*, store_id: int) -> bool:
    return Store.objects.filter(pk=store_id).exists()


def store_is_managed_by(*, store_id: int, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether `user` may see and manage the store's orders: its staff, or a superuser."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return Store.staff.through.objects.filter(store_id=store_id, user_id=user.pk).exists()


def inventory_list(*, store_id: int) -> QuerySet[Inventory]:
    """The store's stock, alphabetical by product title (id breaks ties).

    Case-insensitive, so "mouse" sorts before "Zebra" whatever the database collation: the
    order is lower(title), kept on each stock row as `product_title_key` and indexed with the
    store, so a page is read off the index instead of sorting the store's whole stock.
    """
    return (
        Inventory.objects.filter(store_id=store_id)
        .select_related("product__category")
        .order_by("product_title_key", "product_id")
    )
