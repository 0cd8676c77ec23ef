"""Product search and title suggestions (reads only).

A search runs in two steps: the ordered ids of the requested page, then the page's rows with
``store_quantity`` read live. Pagination fetches ``page_size + 1`` ids instead of counting every
match. Nothing here is cached: the response cache (storefront.search.api) is the one layer.

Relevance retrieval stops early (docs/search.md, "Relevance"): the matches of ``q`` are read
tier after tier, each tier from an index whose entries come out in result order, and a tier is
only read when the ones before it held fewer rows than the page needs. So ``q=pro``, which
matches 14 % of a million products, reads a page of index entries, not 142,000 rows.
"""

import heapq
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, TypedDict

from django.contrib.postgres.aggregates import BoolOr
from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    Func,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Collate, Upper

from storefront.catalog.models import Product
from storefront.catalog.selectors import product_filter
from storefront.inventory.models import Inventory
from storefront.search.models import WORD_SEPARATOR, SearchTerm, SearchWord, TermSource

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
    (search_normalize, sql/search_index.sql), so a query and a title are normalized alike.
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
    if ordering == "title" and len(words) == 1 and words[0].isalnum():
        return _one_word_by_title(words[0], filters=filters, wanted=wanted)
    products = filters.products().order_by(*_ORDER_BY[ordering])
    if words:
        products = products.filter(_every_word_in(words, ("title", "description")))
    return list(products.values_list("id", flat=True)[:wanted])


TITLE_WORDS_MERGED = 12  # catalog words holding the query word, read as one title-ordered merge


def _one_word_by_title(word: str, *, filters: SearchFilters, wanted: int) -> list[int]:
    """`ordering=title` for one word: normalized title (case and punctuation ignored), then id.

    The products of each title word holding `word` are one range of WORD_THEN_TITLE terms,
    already in title order; the ranges are merged. Products that hold it only in their
    description (only when the vocabulary says some description does) are few or none, and
    are ranked whole. Walking the title index instead reads every title sorting before the
    word's products: 90 % of the catalog for "wireless".
    """
    holding = list(
        SearchWord.objects.filter(word__contains=word, in_title=True)
        .order_by("word")
        .values_list("word", flat=True)[: TITLE_WORDS_MERGED + 1]
    )
    if len(holding) > TITLE_WORDS_MERGED:  # a fragment of many words ("A"): the plain path
        matches = filters.products().filter(_every_word_in([word], ("title", "description")))
        return list(matches.order_by(*_ORDER_BY["title"]).values_list("id", flat=True)[:wanted])
    terms = filters.terms().filter(source=TermSource.WORD_THEN_TITLE).order_by("term", "product_id")
    streams: list[Iterator[tuple[str, int]]] = [
        (
            (term.partition(WORD_SEPARATOR)[2], product_id)
            for term, product_id in terms.filter(
                term__startswith=f"{holding_word}{WORD_SEPARATOR}"
            ).values_list("term", "product_id")[:wanted]
        )
        for holding_word in holding
    ]
    if word_occurrences(word).in_description:
        described = (
            filters.products()
            .filter(description__icontains=word)
            .exclude(title__icontains=word)
            .annotate(key=Func("title", function="search_normalize"))
            .order_by("key", "id")
            .values_list("key", "id")
        )
        streams.append(iter(described[:wanted]))
    ordered = (product_id for _, product_id in heapq.merge(*streams))
    return list(itertools.islice(dict.fromkeys(ordered), wanted))


# Reads `limit` ids of one tier, in order.
Tier = Callable[[int], list[int]]


def relevance_tiers(words: list[str], *, filters: SearchFilters) -> Iterator[Tier]:
    """The matches of `words` in ranking order, tier after tier; a tier is only built and read
    when the ones before it could not fill the page:

    1. a title starting with the phrase (the exact title first: it is the shortest such term),
       then a title with a later word starting it;
    2. the same for the phrase's variants: its words in another order, and each word before
       the last completed to a catalog word it starts ("wireles mous": "WIRELESS MOUS");
    3. every word in the title, as a substring ("phone" in "Smartphone");
    4. every word in the title or the description.

    Tiers 3-4 are read only when the vocabulary (`word_occurrences`) shows they can add a
    product: a word inside a title word, several words (not necessarily adjacent), a word
    that occurs in descriptions.

    Tiers 1-2 go by the term from the matching word on, then product id: each is one range of
    search_term_range_idx, read in order, which stops after a page. Tiers 3-4 go by
    case-insensitive title, then title, then id (see `_substring_tier`).
    """
    phrases = _phrase_variants(words)
    terms = filters.terms().order_by("term", "product_id").values_list("product_id", flat=True)
    for phrase in phrases:
        for source in (TermSource.TITLE_START, TermSource.TITLE_WORD):
            yield _sliced(terms.filter(source=source, term__startswith=phrase))
    occurrences = [word_occurrences(word) for word in words]
    products = filters.products()
    # Skipped when the vocabulary shows they can add nothing to the tiers above.
    if all(o.in_title for o in occurrences) and (
        len(words) > 1 or occurrences[0].inside_title_word
    ):
        yield _substring_tier(products.filter(_every_word_in(words, ("title",))))
    if any(o.in_description for o in occurrences):
        yield _substring_tier(products.filter(_every_word_in(words, ("title", "description"))))


@dataclass(frozen=True)
class WordOccurrences:
    """Where a query word occurs as a substring of a catalog word (search_word)."""

    in_title: bool
    inside_title_word: bool  # in a title word that it does not start
    in_description: bool


def word_occurrences(word: str) -> WordOccurrences:
    if not word.isalnum():  # a literal query of no letters or digits: no catalog word holds it
        return WordOccurrences(in_title=True, inside_title_word=True, in_description=True)
    containing = SearchWord.objects.filter(word__contains=word)
    starts = Q(word__startswith=word)
    found = containing.aggregate(
        title=BoolOr("in_title", default=False),
        inside=BoolOr(
            ExpressionWrapper(Q(in_title=True) & ~starts, output_field=BooleanField()),
            default=False,
        ),
        description=BoolOr("in_description", default=False),
    )
    return WordOccurrences(
        in_title=found["title"],
        inside_title_word=found["inside"],
        in_description=found["description"],
    )


PHRASE_VARIANTS = 12  # at most; each costs two index range reads when reached
COMPLETIONS_PER_WORD = 3


def _phrase_variants(words: list[str]) -> Iterator[str]:
    """The phrase as typed, then in the other orders of its words (up to three words), each
    also with its words before the last completed from the vocabulary (search_word)."""
    orders = itertools.permutations(words) if len(words) <= 3 else iter([tuple(words)])
    seen: set[str] = set()
    for order in orders:
        *leading, last = order
        completions = [[word, *_completions(word)] for word in leading]
        for combination in itertools.product(*completions):
            phrase = " ".join([*combination, last])
            if phrase not in seen:
                seen.add(phrase)
                yield phrase
                if len(seen) == PHRASE_VARIANTS:
                    return


def _completions(word: str) -> list[str]:
    longer = SearchWord.objects.filter(word__startswith=word).exclude(word=word).order_by("word")
    return list(longer.values_list("word", flat=True)[:COMPLETIONS_PER_WORD])


def _sliced(ordered_ids: QuerySet) -> Tier:
    return lambda limit: list(ordered_ids[:limit])


# A substring tier with fewer matches than this is ranked whole; with more, it is walked in
# title order, where matches are dense enough to fill a page quickly.
SUBSTRING_CANDIDATES = 500


def _substring_tier(matches: QuerySet[Product]) -> Tier:
    """Substring matches (trigram GIN indexes, catalog migration 0002) in title order.

    Walking the title index and testing each row stops early only when matches are dense; for
    a rare one (or one the filters exclude) it reads the whole catalog (6 s for "laptop" in
    Books). So the tier first collects up to SUBSTRING_CANDIDATES matches in any order (a
    bitmap scan of the trigram indexes), ranks them if that was all of them, and walks in
    title order only when there are more.
    """
    by_title = (Collate(Upper("title"), "C"), "title", "id")

    def read(limit: int) -> list[int]:
        candidates = list(matches.order_by().values_list("id", flat=True)[:SUBSTRING_CANDIDATES])
        ranked = (
            matches
            if len(candidates) == SUBSTRING_CANDIDATES
            else matches.filter(pk__in=candidates)
        )
        return list(ranked.order_by(*by_title).values_list("id", flat=True)[:limit])

    return read


def _every_word_in(words: list[str], fields: tuple[str, ...]) -> Q:
    """Each word is a substring of one of `fields` (icontains: UPPER(field) LIKE, which the
    trigram indexes of catalog migration 0002 serve)."""
    condition = Q()
    for word in words:
        condition &= Q.create([(f"{field}__icontains", word) for field in fields], Q.OR)
    return condition


def _extend(found: dict[int, None], tier: Tier, wanted: int) -> None:
    """Adds the tier's ids to `found`, in order, until it holds `wanted` or the tier ends.

    Products already found (in an earlier tier, or twice in this one: two words of a title
    can start the phrase) are skipped, so the read grows until it yields enough new ones."""
    limit = wanted + len(found)
    while True:
        ids = tier(limit)
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


# Rows {"title_key", "title", "first_id"}: one per distinct title.
TitleRows = QuerySet[Product, dict[str, Any]]


def suggestion_queries(*, q: str) -> tuple[TitleRows, TitleRows]:
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


def _distinct_titles(products: QuerySet[Product]) -> TitleRows:
    # Many products share a title; each title is suggested once, with its oldest product's id.
    return (
        # title_key is the annotation of suggestion_queries, which the stubs cannot follow.
        products.values("title_key", "title")  # type: ignore[misc]
        .annotate(first_id=Min("id"))
        .order_by("title_key", "title")
    )
