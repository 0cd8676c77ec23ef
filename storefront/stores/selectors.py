from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.db.models import QuerySet

from storefront.stores.models import Store


def store_list() -> QuerySet[Store]:
    """Every store, by id."""
    return Store.objects.order_by("id")


def store_get(*, store_id: int) -> Store | None:
    return Store.objects.filter(pk=store_id).first()


def store_exists(*, store_id: int) -> bool:
    return Store.objects.filter(pk=store_id).exists()


def store_is_managed_by(*, store_id: int, user: AbstractUser | AnonymousUser) -> bool:
    """Whether `user` may see and manage the store's orders: its staff, or a superuser."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return Store.staff.through.objects.filter(store_id=store_id, user_id=user.pk).exists()
