"""Product search and title suggestions: the reads, one SQL function call each
(sql/search.sql), and the live rows a page shows.

What matches, the relevance tiers, title order, counting and facets are defined once, in SQL;
docs/search.md describes them.
"""

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from django.db import connection

from storefront.common.replicas import read_connection

Ordering = Literal["relevance", "title", "price", "-price", "newest"]
ORDERINGS: tuple[Ordering, ...] = ("relevance", "title", "price", "-price", "newest")
Facet = Literal["category", "price"]
FACETS: tuple[Facet, ...] = ("category", "price")

# Counts (and facets) are exact up to this many matches; above, estimated on a 10 % sample.
COUNT_EXACT_UP_TO = 10_000
SUGGESTION_LIMIT = 10


@dataclass(frozen=True)
class SearchQuery:
    """A validated search; its fields are also the cache key."""

    q: str = ""
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    category_id: int | None = None
    store_id: int | None = None
    in_stock: bool = False
    ordering: Ordering | None = None
    page: int = 1
    page_size: int = 20
    facets: tuple[Facet, ...] = ()

    @property
    def effective_ordering(self) -> Ordering:
        """Relevance needs words; without `q`, and by default, results go by title."""
        if self.ordering is None or (self.ordering == "relevance" and not self.q):
            return "relevance" if self.q else "title"
        return self.ordering


@dataclass(frozen=True)
class SearchMatches:
    """What a search found, without anything that can change when an order commits: this is
    what the cache holds (the page's ids, one past the page when there is a next one)."""

    catalog_version: int
    ids: list[int]
    count: int
    count_exact: bool
    fuzzy: bool  # nothing matched `q`; these match its spelling-corrected words, if any
    facets: dict[str, Any] | None
    facets_exact: bool | None


@dataclass(frozen=True)
class ResultRows:
    """A page's rows read live, in the order of the ids asked for (deleted products drop out)."""

    catalog_version: int
    store_exists: bool
    rows: list[dict[str, Any]]


def search_matches(query: SearchQuery) -> SearchMatches:
    """Runs the search in one round trip: the page's ids, count, flags and facets, on a
    replica when the handler reads there (an `in_stock` filter then sees the replica's stock:
    services.search_page checks the page's products on the primary)."""
    with read_connection().cursor() as cursor:
        cursor.execute(
            "SELECT * FROM search_products(%s::text, %s::numeric, %s::numeric, %s::bigint,"
            " %s::bigint, %s, %s::text, %s, %s, %s, %s, %s)",
            [
                query.q,
                query.min_price,
                query.max_price,
                query.category_id,
                query.store_id,
                query.in_stock,
                query.effective_ordering,
                (query.page - 1) * query.page_size,
                query.page_size + 1,  # one past the page tells whether there is a next one
                "category" in query.facets,
                "price" in query.facets,
                COUNT_EXACT_UP_TO,
            ],
        )
        version, ids, count, count_exact, fuzzy, facets, facets_exact = cursor.fetchone()
    return SearchMatches(
        catalog_version=version,
        ids=list(ids),
        count=count,
        count_exact=count_exact,
        fuzzy=fuzzy,
        facets=None if facets is None else json.loads(facets),  # Django leaves jsonb as text
        facets_exact=facets_exact,
    )


def suggestion_ids(q: str) -> tuple[int, list[int]]:
    """The catalog version and the ids whose titles are suggested for `q`, in order."""
    with read_connection().cursor() as cursor:
        cursor.execute("SELECT * FROM search_suggest(%s, %s)", [q, SUGGESTION_LIMIT])
        version, ids = cursor.fetchone()
    return version, list(ids)


def result_rows(*, ids: list[int], store_id: int | None) -> ResultRows:
    """The rows shown for `ids`, with `store_quantity` when a store is given, read live on the
    primary along with the catalog version and whether the store exists: one round trip."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM search_rows(%s::bigint[], %s::bigint)", [ids, store_id])
        found = cursor.fetchall()
    version, store_exists = found[0][:2]
    by_id = {}
    for *_, product_id, title, price, category, quantity in found:
        if product_id is not None:
            row = {"id": product_id, "title": title, "price": price, "category": category}
            if store_id is not None:
                row["store_quantity"] = quantity
            by_id[product_id] = row
    return ResultRows(
        catalog_version=version,
        store_exists=store_exists,
        rows=[by_id[product_id] for product_id in ids if product_id in by_id],
    )
