from decimal import Decimal
from typing import NamedTuple


class ProductDraft(NamedTuple):
    """A product as a catalog generator makes it, before it has a category id and timestamps."""

    title: str
    description: str
    price: Decimal
    category: str  # the category's name
