"""Catalog writes invalidate cached searches (stock never needs this: it is read live)."""

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from storefront.catalog.models import Category, Product
from storefront.search.cache import catalog_version_bump


@receiver([post_save, post_delete], sender=Product)
@receiver([post_save, post_delete], sender=Category)
def invalidate_search_cache(sender: type, **kwargs: Any) -> None:
    catalog_version_bump()
