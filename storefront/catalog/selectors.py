from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet

from storefront.catalog.models import Category, Product


@dataclass(frozen=True)
class ProductDetail:
    id: int
    title: str
    description: str
    price: Decimal
    category_id: int
    category: str  # its name
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None  # None while on sale

    @classmethod
    def of(cls, product: Product) -> "ProductDetail":
        return cls(
            id=product.pk,
            title=product.title,
            description=product.description,
            price=product.price,
            category_id=product.category_id,
            category=product.category.name,
            created_at=product.created_at,
            updated_at=product.updated_at,
            archived_at=product.archived_at,
        )


@dataclass(frozen=True)
class CategoryDetail:
    id: int
    name: str


def product_detail(*, product_id: int) -> ProductDetail | None:
    """One product, archived or not (orders keep showing the products they refer to)."""
    product = Product.objects.select_related("category").filter(pk=product_id).first()
    return None if product is None else ProductDetail.of(product)


def category_detail(*, category_id: int) -> CategoryDetail | None:
    category = Category.objects.filter(pk=category_id).first()
    return None if category is None else CategoryDetail(id=category.pk, name=category.name)


def category_list() -> QuerySet[Category]:
    """Every category, by name (its unique index)."""
    return Category.objects.order_by("name")


def category_get_by_reference(*, reference: str) -> Category | None:
    """A category by numeric id or by name (case-insensitive); an id wins if both could match."""
    reference = reference.strip()
    if reference.isdecimal():  # int() accepts every decimal digit; isdigit() also allows "²"
        category = Category.objects.filter(pk=int(reference)).first()
        if category is not None:
            return category
    return Category.objects.filter(name__iexact=reference).first()


def product_filter(
    *,
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    category_id: int | None = None,
) -> QuerySet[Product]:
    """Products narrowed by the structured filters (inclusive price bounds, one category)."""
    products = Product.objects.all()
    if min_price is not None:
        products = products.filter(price__gte=min_price)
    if max_price is not None:
        products = products.filter(price__lte=max_price)
    if category_id is not None:
        products = products.filter(category_id=category_id)
    return products
