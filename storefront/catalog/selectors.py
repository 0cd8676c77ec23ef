from decimal import Decimal

from django.db.models import QuerySet

from storefront.catalog.models import Category, Product


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
