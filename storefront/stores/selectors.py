from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.db.models.functions import Lower

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
    """The store's stock, alphabetical by product title (id breaks ties), one query per page.

    Case-insensitive, so "mouse" sorts before "Zebra" whatever the database collation.
    """
    return (
        Inventory.objects.filter(store_id=store_id)
        .select_related("product__category")
        .order_by(Lower("product__title"), "product_id")
    )
