"""Product search and title suggestions (reads only).

A search runs in two steps: the ordered ids of the requested page (the expensive part, cacheable
because it does not depend on stock unless ``in_stock`` is asked), then the page's rows with
``store_quantity`` read live. Pagination fetches ``page_size + 1`` ids instead of counting every
match, which is what keeps deep result sets (a million products) cheap.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, TypedDict

from django.contrib.postgres.lookups import TrigramSimilar, TrigramWordSimilar
from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.db.models import (
    Case,
    Exists,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Collate, Greatest, Upper

from storefront.catalog.models import Product
from storefront.catalog.selectors import product_filter
from storefront.inventory.models import Inventory
from storefront.search import cache as search_cache

Ordering = Literal["relevance", "title", "price", "-price", "newest"]
ORDERINGS: tuple[Ordering, ...] = ("relevance", "title", "price", "-price", "newest")

# Every ordering ends on the primary key so pages are stable when sort values tie.
_ORDER_BY: dict[str, tuple[str, ...]] = {
    "title": ("title", "id"),
    "price": ("price", "id"),
    "-price": ("-price", "-id"),
    "newest": ("-created_at", "-id"),
}

SUGGESTION_LIMIT = 10


@dataclass(frozen=True)
class ProductSearchPage:
    results: list[Product]  # each carries `store_quantity` when a store was given
    page: int
    page_size: int
    has_next: bool
    fuzzy: bool  # True when nothing matched `q` and these are trigram-similar titles


class Suggestion(TypedDict):
    id: int
    title: str


class _PageIds(TypedDict):
    ids: list[int]
    has_next: bool
    fuzzy: bool


def product_search(
    *,
    q: str = "",
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    category_id: int | None = None,
    store_id: int | None = None,
    in_stock: bool = False,
    ordering: Ordering | None = None,
    page: int = 1,
    page_size: int = 20,
) -> ProductSearchPage:
    params = {
        "q": q,
        "min_price": min_price,
        "max_price": max_price,
        "category_id": category_id,
        "ordering": _effective_ordering(q=q, ordering=ordering),
        "page": page,
        "page_size": page_size,
    }

    def compute() -> _PageIds:
        return _page_ids(**params, store_id=store_id, in_stock=in_stock)

    # A stock filter must see every order the moment it commits, so it is never cached.
    found = compute() if in_stock else search_cache.get_or_compute("products", params, compute)
    return ProductSearchPage(
        results=_products_with_live_stock(ids=found["ids"], store_id=store_id),
        page=page,
        page_size=page_size,
        has_next=found["has_next"],
        fuzzy=found["fuzzy"],
    )


def product_suggest(*, q: str) -> list[Suggestion]:
    """Up to ten distinct titles: those starting with `q` first, then those containing it."""
    return search_cache.get_or_compute("suggest", {"q": q}, lambda: _suggestions(q))


def product_search_queryset(
    *,
    q: str = "",
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    category_id: int | None = None,
    store_id: int | None = None,
    in_stock: bool = False,
    ordering: Ordering | None = None,
    similar: bool = False,
) -> QuerySet[Product]:
    """The ordered products a search pages through; `similar` is the typo-tolerant variant."""
    ordering = _effective_ordering(q=q, ordering=ordering)
    products = product_filter(min_price=min_price, max_price=max_price, category_id=category_id)
    if in_stock:
        products = products.filter(_in_stock(store_id=store_id))
    if not q:
        return products.order_by(*_ORDER_BY[ordering])
    if similar:
        return _similar_titles(products, q=q, ordering=ordering)
    return _text_matches(products, q=q, ordering=ordering)


def _effective_ordering(*, q: str, ordering: Ordering | None) -> Ordering:
    """Relevance needs a query; without one, and by default, results go by title."""
    if ordering is None or (ordering == "relevance" and not q):
        return "relevance" if q else "title"
    return ordering


def _page_ids(*, page: int, page_size: int, **search: Any) -> _PageIds:
    offset = (page - 1) * page_size
    matches = product_search_queryset(**search)
    ids, has_next = _slice(matches, offset, page_size)
    nothing_matched = not ids and (page == 1 or not matches.exists())
    if search["q"] and nothing_matched:
        similar = product_search_queryset(**search, similar=True)
        ids, has_next = _slice(similar, offset, page_size)
        return {"ids": ids, "has_next": has_next, "fuzzy": True}
    return {"ids": ids, "has_next": has_next, "fuzzy": False}


def _slice(products: QuerySet[Product], offset: int, page_size: int) -> tuple[list[int], bool]:
    # One row past the page tells whether there is a next page, without COUNT(*).
    ids = list(products.values_list("id", flat=True)[offset : offset + page_size + 1])
    return ids[:page_size], len(ids) > page_size


def _text_matches(products: QuerySet[Product], *, q: str, ordering: Ordering) -> QuerySet[Product]:
    # icontains compiles to UPPER(col::text) LIKE UPPER(%s) on PostgreSQL, which is exactly the
    # expression of the trigram GIN indexes (catalog migration 0002).
    matches = products.filter(Q(title__icontains=q) | Q(description__icontains=q))
    if ordering != "relevance":
        return matches.order_by(*_ORDER_BY[ordering])
    rank = Case(
        When(title__iexact=q, then=Value(0)),
        When(title__istartswith=q, then=Value(1)),
        When(title__icontains=f" {q}", then=Value(2)),
        When(title__icontains=q, then=Value(3)),
        default=Value(4),  # matched in the description only
        output_field=IntegerField(),
    )
    return matches.annotate(rank=rank).order_by("rank", "title", "id")


def _similar_titles(
    products: QuerySet[Product], *, q: str, ordering: Ordering
) -> QuerySet[Product]:
    """Typo tolerance: titles trigram-similar to `q` as a whole (`%`) or similar to some stretch
    of the title (`%>`, word similarity: a misspelt word inside a long title). Both operators
    are served by the UPPER(title) trigram index."""
    upper_title, term = Upper("title"), Upper(Value(q))
    similar = products.filter(
        Q(TrigramSimilar(upper_title, term)) | Q(TrigramWordSimilar(upper_title, term))
    )
    if ordering != "relevance":
        return similar.order_by(*_ORDER_BY[ordering])
    similarity = Greatest(
        TrigramWordSimilarity(term, upper_title), TrigramSimilarity(upper_title, term)
    )
    return similar.annotate(similarity=similarity).order_by("-similarity", "title", "id")


def _in_stock(*, store_id: int | None) -> Exists:
    stocked = Inventory.objects.filter(product_id=OuterRef("pk"), quantity__gt=0)
    if store_id is not None:
        stocked = stocked.filter(store_id=store_id)
    return Exists(stocked)


def product_rows(*, ids: list[int], store_id: int | None) -> QuerySet[Product]:
    """The rows shown for `ids`, with `store_quantity` read live when a store is given."""
    products = Product.objects.filter(pk__in=ids).select_related("category").order_by()
    if store_id is None:
        return products
    quantity = Inventory.objects.filter(store_id=store_id, product_id=OuterRef("pk"))
    return products.annotate(store_quantity=Coalesce(Subquery(quantity.values("quantity")[:1]), 0))


def _products_with_live_stock(*, ids: list[int], store_id: int | None) -> list[Product]:
    by_id = {product.pk: product for product in product_rows(ids=ids, store_id=store_id)}
    # Products deleted since their ids were cached simply drop out of the page.
    return [by_id[pk] for pk in ids if pk in by_id]


def suggestion_queries(*, q: str) -> tuple[QuerySet[Product], QuerySet[Product]]:
    """Titles starting with `q`, then titles containing it elsewhere: two disjoint groups, each
    of distinct titles in case-insensitive alphabetical order."""
    products = Product.objects.annotate(title_key=_title_sort_key())
    # Comparing the collated key (not icontains) is what lets the prefix use a B-tree range.
    starting = products.filter(title_key__startswith=Upper(Value(q)))
    containing = products.filter(title__icontains=q).exclude(title__istartswith=q)
    return _distinct_titles(starting), _distinct_titles(containing)


def _title_sort_key() -> Func:
    # UPPER(title) under the "C" collation matches catalog migration 0003's index, whose order
    # is case-insensitive byte order.
    return Collate(Upper("title"), "C")


def _distinct_titles(products: QuerySet[Product]) -> QuerySet[Product]:
    # Many products share a title; each title is suggested once, with its oldest product's id.
    return (
        products.values("title_key", "title")
        .annotate(first_id=Min("id"))
        .order_by("title_key", "title")
    )


def _suggestions(q: str) -> list[Suggestion]:
    suggestions: list[Suggestion] = []
    for group in suggestion_queries(q=q):
        rows = group[: SUGGESTION_LIMIT - len(suggestions)]
        suggestions += [{"id": row["first_id"], "title": row["title"]} for row in rows]
        if len(suggestions) == SUGGESTION_LIMIT:
            break
    return suggestions
