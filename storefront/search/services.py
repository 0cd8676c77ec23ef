"""The search and suggest services: cache lookup, the search when it misses, live rows.

Reads only, apart from the cache. Stock is never cached: `store_quantity` is read with the
rows on every request, and a search filtered by `in_stock` is never stored (`cacheable`).
What matched may be read on a replica; the rows, their stock and the `in_stock` check of the
page's products on the primary (storefront.common.replicas).
"""

import dataclasses
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS

from storefront.common.replicas import read_connection
from storefront.inventory.selectors import products_in_stock
from storefront.search import cache as search_cache
from storefront.search.selectors import (
    ResultRows,
    SearchMatches,
    SearchQuery,
    result_rows,
    search_matches,
    suggestion_ids,
)


@dataclass(frozen=True)
class SearchPage:
    query: SearchQuery
    matches: SearchMatches
    rows: list[dict[str, Any]]
    store_exists: bool  # False when `store_id` names no store

    @property
    def has_next(self) -> bool:
        return len(self.matches.ids) > self.query.page_size


def cacheable(query: SearchQuery) -> bool:
    """A stock filter decides which products are on the page, and it must see every order the
    moment it commits: searches with in_stock are never stored, every other one is."""
    return not query.in_stock


def search_page(query: SearchQuery) -> SearchPage:
    # Without in_stock the store only adds quantities, read with the rows: not part of the key.
    key = search_cache.entry_key("products", dataclasses.replace(query, store_id=None))
    matches: SearchMatches | None = search_cache.cached(key) if cacheable(query) else None
    if matches is not None:
        rows = _page_rows(matches, query)
        if rows.catalog_version == matches.catalog_version:
            return SearchPage(query, matches, rows.rows, rows.store_exists)
    matches = search_matches(query)
    if cacheable(query):
        search_cache.remember(key, matches)
    rows = _page_rows(matches, query)
    return SearchPage(query, matches, rows.rows, rows.store_exists)


def _page_rows(matches: SearchMatches, query: SearchQuery) -> ResultRows:
    rows = result_rows(ids=matches.ids[: query.page_size], store_id=query.store_id)
    if not query.in_stock or read_connection().alias == DEFAULT_DB_ALIAS:
        return rows
    # Matched on a replica, which may not have seen the latest orders: a product the primary
    # has sold out since leaves the page (restocked ones join it once the replica has).
    if query.store_id is not None:
        kept = [row for row in rows.rows if row["store_quantity"] > 0]
    else:
        in_stock = products_in_stock(product_ids=[row["id"] for row in rows.rows])
        kept = [row for row in rows.rows if row["id"] in in_stock]
    return dataclasses.replace(rows, rows=kept)


def suggestions(q: str) -> list[dict[str, Any]]:
    """The suggested products' rows, read live; the ids are cached under the catalog version."""
    key = search_cache.entry_key("suggest", q)
    found: tuple[int, list[int]] | None = search_cache.cached(key)
    if found is not None:
        version, ids = found
        rows = result_rows(ids=ids, store_id=None)
        if rows.catalog_version == version:
            return rows.rows
    version, ids = suggestion_ids(q)
    search_cache.remember(key, (version, ids))
    return result_rows(ids=ids, store_id=None).rows
