"""Product search and title suggestions (reads only).

A search runs in two steps: the ordered ids of the requested page, then the page's rows with
``store_quantity`` read live. Pagination fetches ``page_size + 1`` ids instead of counting every
match. Nothing here is cached: the response cache (storefront.search.api) is the one layer.

Relevance retrieval stops early (docs/search.md, "Relevance"): the matches of ``q`` are read
tier after tier, each tier from an index whose entries come out in result order, and a tier is
only read when the ones before it held fewer rows than the page needs. So ``q=pro``, which
matches 14 % of a million products, reads a page of index entries, not 142,000 rows.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, TypedDict

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import Exists, Min, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Collate, Upper

from storefront.catalog.models import Product
from storefront.catalog.selectors import product_filter
from storefront.inventory.models import Inventory
from storefront.search.models import SearchTerm, SearchWord, TermSource

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
    fuzzy: bool  # True when nothing matched `q` and these match its spelling-corrected words


class Suggestion(TypedDict):
    id: int
    title: str


@dataclass(frozen=True)
class SearchFilters:
    """What narrows a search besides its text; every tier applies all of it."""

    min_price: Decimal | None = None
    max_price: Decimal | None = None
    category_id: int | None = None
    store_id: int | None = None
    in_stock: bool = False

    def products(self) -> QuerySet[Product]:
        products = product_filter(
            min_price=self.min_price, max_price=self.max_price, category_id=self.category_id
        )
        return products.filter(self.stocked("pk")) if self.in_stock else products

    def terms(self) -> QuerySet[SearchTerm]:
        """Search terms of the products that pass, checked on search_term_range_idx (price and
        category are copied there) plus, for in_stock, one inventory probe per candidate."""
        terms = SearchTerm.objects.all()
        if self.min_price is not None:
            terms = terms.filter(price__gte=self.min_price)
        if self.max_price is not None:
            terms = terms.filter(price__lte=self.max_price)
        if self.category_id is not None:
            terms = terms.filter(category_id=self.category_id)
        return terms.filter(self.stocked("product_id")) if self.in_stock else terms

    def stocked(self, product_ref: str) -> Exists:
        """In stock in the given store, or in any store without one (inventory_in_stock_idx)."""
        stocked = Inventory.objects.filter(product_id=OuterRef(product_ref), quantity__gt=0)
        if self.store_id is not None:
            stocked = stocked.filter(store_id=self.store_id)
        return Exists(stocked)


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
    filters = SearchFilters(
        min_price=min_price,
        max_price=max_price,
        category_id=category_id,
        store_id=store_id,
        in_stock=in_stock,
    )
    ordering = _effective_ordering(q=q, ordering=ordering)
    # One row past the page tells whether there is a next page, without COUNT(*).
    wanted = page * page_size + 1
    words = query_words(q)
    fuzzy = False
    ids = _matching_ids(words, filters=filters, ordering=ordering, wanted=wanted)
    if words and not ids:
        corrected = corrected_words(words)
        fuzzy = True
        if corrected != words:
            ids = _matching_ids(corrected, filters=filters, ordering=ordering, wanted=wanted)
    page_ids = ids[(page - 1) * page_size : page * page_size]
    return ProductSearchPage(
        results=_products_with_live_stock(ids=page_ids, store_id=store_id),
        page=page,
        page_size=page_size,
        has_next=len(ids) == wanted,
        fuzzy=fuzzy,
    )


def product_suggest(*, q: str) -> list[Suggestion]:
    """Up to ten distinct titles: those starting with `q` first, then those containing it."""
    suggestions: list[Suggestion] = []
    for group in suggestion_queries(q=q):
        rows = group[: SUGGESTION_LIMIT - len(suggestions)]
        suggestions += [{"id": row["first_id"], "title": row["title"]} for row in rows]
        if len(suggestions) == SUGGESTION_LIMIT:
            break
    return suggestions


def query_words(q: str) -> list[str]:
    """`q` as the catalog's terms are written: PostgreSQL's own upper case and word split
    (search_normalize, search migration 0002), so a query and a title are normalized alike.
    A query of no letters or digits ("%", "-") is kept whole: a literal substring."""
    if not q:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_normalize(%s)", [q])
        (normalized,) = cursor.fetchone()
    return normalized.split() or [q]


def corrected_words(words: list[str]) -> list[str]:
    """Typo tolerance: each word that starts no word of the catalog becomes the catalog word
    most similar to it (pg_trgm similarity over search_word, a few thousand words)."""
    corrected = []
    for word in words:
        if SearchWord.objects.filter(word__startswith=word).exists():
            corrected.append(word)
            continue
        closest = (
            SearchWord.objects.filter(word__trigram_similar=word)
            .annotate(similarity=TrigramSimilarity("word", word))
            .order_by("-similarity", "word")
            .values_list("word", flat=True)
            .first()
        )
        corrected.append(closest or word)
    return corrected


def _effective_ordering(*, q: str, ordering: Ordering | None) -> Ordering:
    """Relevance needs a query; without one, and by default, results go by title."""
    if ordering is None or (ordering == "relevance" and not q):
        return "relevance" if q else "title"
    return ordering


def _matching_ids(
    words: list[str], *, filters: SearchFilters, ordering: Ordering, wanted: int
) -> list[int]:
    """The first `wanted` ids in result order."""
    if ordering == "relevance":
        found: dict[int, None] = {}  # an ordered set: tiers overlap
        for tier in relevance_tiers(words, filters=filters):
            _extend(found, tier, wanted)
            if len(found) >= wanted:
                break
        return list(found)[:wanted]
    products = filters.products().order_by(*_ORDER_BY[ordering])
    if words:
        products = products.filter(_every_word_in(words, ("title", "description")))
    return list(products.values_list("id", flat=True)[:wanted])


def relevance_tiers(words: list[str], *, filters: SearchFilters) -> Iterator[QuerySet]:
    """The matches of `words` in ranking order, as ordered querysets of product ids, each
    yielding its rows from an index in that order:

    1. the title starts with the phrase (the exact title first: it is the shortest such term);
    2. a later word of the title starts the phrase;
    3. (several words) the first word starts a title word and every other word is in the title;
    4. every word is in the title (as a substring: "phone" in "Smartphone");
    5. every word is in the title or the description.

    Tiers 1-3 go by the term from the matching word on, then product id (search_term_range_idx,
    a B-tree range); 4-5 by case-insensitive title, then title, then id
    (product_title_upper_c_idx). A match of an earlier tier is also one of every later tier;
    the caller keeps each product at its first.
    """
    phrase = " ".join(words)
    terms = filters.terms().order_by("term", "product_id").values_list("product_id", flat=True)
    for source in (TermSource.TITLE_START, TermSource.TITLE_WORD):
        yield terms.filter(source=source, term__startswith=phrase)
    if len(words) > 1:
        first, *others = words
        for source in (TermSource.TITLE_START, TermSource.TITLE_WORD):
            yield terms.filter(source=source, term__startswith=first).filter(
                _every_word_in(others, ("product__title",))
            )
    by_title = (
        filters.products()
        .order_by(Collate(Upper("title"), "C"), "title", "id")
        .values_list("id", flat=True)
    )
    yield by_title.filter(_every_word_in(words, ("title",)))
    yield by_title.filter(_every_word_in(words, ("title", "description")))


def _every_word_in(words: list[str], fields: tuple[str, ...]) -> Q:
    """Each word is a substring of one of `fields` (icontains: UPPER(field) LIKE, which the
    trigram indexes of catalog migration 0002 serve)."""
    condition = Q()
    for word in words:
        condition &= Q.create([(f"{field}__icontains", word) for field in fields], Q.OR)
    return condition


def _extend(found: dict[int, None], tier: QuerySet, wanted: int) -> None:
    """Adds the tier's ids to `found`, in order, until it holds `wanted` or the tier ends.

    Products already found (in an earlier tier, or twice in this one: two words of a title
    can start the phrase) are skipped, so the slice grows until it yields enough new ones."""
    limit = wanted + len(found)
    while True:
        ids = list(tier[:limit])
        missing = wanted - len(found)
        new = [pk for pk in dict.fromkeys(ids) if pk not in found]
        if len(new) >= missing or len(ids) < limit:
            found.update(dict.fromkeys(new[:missing]))
            return
        limit *= 2


def product_rows(*, ids: list[int], store_id: int | None) -> QuerySet[Product]:
    """The rows shown for `ids`, with `store_quantity` read live when a store is given."""
    products = Product.objects.filter(pk__in=ids).select_related("category").order_by()
    if store_id is None:
        return products
    quantity = Inventory.objects.filter(store_id=store_id, product_id=OuterRef("pk"))
    return products.annotate(store_quantity=Coalesce(Subquery(quantity.values("quantity")[:1]), 0))


def _products_with_live_stock(*, ids: list[int], store_id: int | None) -> list[Product]:
    by_id = {product.pk: product for product in product_rows(ids=ids, store_id=store_id)}
    # Products deleted since their ids were read simply drop out of the page.
    return [by_id[pk] for pk in ids if pk in by_id]


def suggestion_queries(*, q: str) -> tuple[QuerySet[Product], QuerySet[Product]]:
    """Titles starting with `q`, then titles containing it elsewhere: two disjoint groups, each
    of distinct titles in case-insensitive alphabetical order."""
    products = Product.objects.annotate(title_key=_title_sort_key())
    # Comparing the collated key (not icontains) is what lets the prefix use a B-tree range.
    starting = products.filter(title_key__startswith=Upper(Value(q)))
    containing = products.filter(title__icontains=q).exclude(title__istartswith=q)
    return _distinct_titles(starting), _distinct_titles(containing)


def _title_sort_key() -> Collate:
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
