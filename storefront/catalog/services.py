"""Catalog writes: products and categories (the API lets only users with Django's catalog
permissions, or superusers, call them).

Each runs in a durable transaction of its own, under the caller's optional Idempotency-Key
(storefront.common.idempotency), and writes through the ORM's save(); search's triggers on the
catalog's tables see every write at commit. Nothing is deleted: a retired product is archived.
"""

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError
from django.utils import timezone
from rest_framework.exceptions import NotFound, ValidationError

from storefront.catalog.models import Category, Product
from storefront.catalog.selectors import (
    CategoryDetail,
    ProductDetail,
    category_detail,
    category_get_by_reference,
    product_detail,
)
from storefront.common.idempotency import Idempotent, idempotent


class ProductNotFound(NotFound):
    def __init__(self, product_id: int) -> None:
        super().__init__(f"Product {product_id} does not exist.")


def product_create(
    *,
    title: str,
    description: str = "",
    price: Decimal,
    category: str,
    created_by: AbstractBaseUser | AnonymousUser,
    idempotency_key: str | None = None,
) -> Idempotent[ProductDetail]:
    """A new product, on sale at once. `category` is an id or a name (see
    category_get_by_reference); an unknown one is a ValidationError."""

    def write() -> ProductDetail:
        product = Product.objects.create(
            title=title, description=description, price=price, category=_category(category)
        )
        return ProductDetail.of(product)

    return idempotent(
        key=idempotency_key,
        owner_id=created_by.pk,
        operation="product_create",
        request={"title": title, "description": description, "price": price, "category": category},
        write=write,
        dump=lambda product: product.id,
        load=_product,
    )


def product_update(
    *,
    product_id: int,
    updated_by: AbstractBaseUser | AnonymousUser,
    title: str | None = None,
    description: str | None = None,
    price: Decimal | None = None,
    category: str | None = None,
    idempotency_key: str | None = None,
) -> Idempotent[ProductDetail]:
    """Changes the fields given (None: unchanged). An order placed afterwards pays the new
    price; those placed before keep theirs."""
    changes = {
        field: value
        for field, value in {"title": title, "description": description, "price": price}.items()
        if value is not None
    }

    def write() -> ProductDetail:
        product = _locked(product_id)
        if category is not None:
            product.category = _category(category)
        for field, value in changes.items():
            setattr(product, field, value)
        if changes or category is not None:
            product.save()
        return ProductDetail.of(product)

    return idempotent(
        key=idempotency_key,
        owner_id=updated_by.pk,
        operation="product_update",
        request={"product_id": product_id, "category": category, **changes},
        write=write,
        dump=lambda product: product.id,
        load=_product,
    )


def product_archive(
    *,
    product_id: int,
    archived_by: AbstractBaseUser | AnonymousUser,
    idempotency_key: str | None = None,
) -> Idempotent[ProductDetail]:
    """Retires the product: it can no longer be ordered, and leaves search, suggest and the
    store listings; its row, its stock rows and the orders of it stay. Archiving an archived
    product changes nothing (it keeps its first `archived_at`)."""

    def write() -> ProductDetail:
        product = _locked(product_id)
        if product.archived_at is None:
            product.archived_at = timezone.now()
            product.save(update_fields=["archived_at", "updated_at"])
        return ProductDetail.of(product)

    return idempotent(
        key=idempotency_key,
        owner_id=archived_by.pk,
        operation="product_archive",
        request={"product_id": product_id},
        write=write,
        dump=lambda product: product.id,
        load=_product,
    )


def category_create(
    *, name: str, created_by: AbstractBaseUser | AnonymousUser, idempotency_key: str | None = None
) -> Idempotent[CategoryDetail]:
    """A new category; a name another category has, whatever its case, is a ValidationError."""

    def write() -> CategoryDetail:
        try:
            category = Category.objects.create(name=name)
        except IntegrityError:  # the unique index decides, concurrent creations included
            raise ValidationError({"name": ["A category with this name already exists."]}) from None
        return CategoryDetail(id=category.pk, name=category.name)

    def load(category_id: int) -> CategoryDetail:
        category = category_detail(category_id=category_id)
        if category is None:  # deleted since (the admin still can)
            raise NotFound(f"Category {category_id} does not exist.")
        return category

    return idempotent(
        key=idempotency_key,
        owner_id=created_by.pk,
        operation="category_create",
        request={"name": name},
        write=write,
        dump=lambda category: category.id,
        load=load,
    )


def _category(reference: str) -> Category:
    category = category_get_by_reference(reference=reference)
    if category is None:
        raise ValidationError({"category": ["Unknown category."]})
    return category


def _locked(product_id: int) -> Product:
    """The product, its row locked until the transaction ends: concurrent edits queue."""
    product = (
        Product.objects.select_for_update(of=("self",))
        .select_related("category")
        .filter(pk=product_id)
        .first()
    )
    if product is None:
        raise ProductNotFound(product_id)
    return product


def _product(product_id: int) -> ProductDetail:
    product = product_detail(product_id=product_id)
    if product is None:  # deleted since (the admin still can)
        raise ProductNotFound(product_id)
    return product
