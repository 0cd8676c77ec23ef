"""Request lists replayed by wrk, and the order mixes shared with the raw-SQL floor.

Every list is generated from a fixed seed, so two runs send the same requests.
"""

import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlencode

from bench import typesense_server


def _vocabulary() -> tuple[dict[str, list[str]], list[str]]:
    """The seed's categories, nouns and modifiers (imported late: it needs Django set up)."""
    from storefront.seeding.services import CATALOG, MODIFIERS

    return CATALOG, MODIFIERS


Order = list[tuple[int, int]]  # [(product_id, quantity)], one order's lines


@dataclass(frozen=True)
class RequestLine:
    method: str
    path: str
    body: str = ""


def write_requests(path: Path, lines: Iterable[RequestLine]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as out:
        for line in lines:
            out.write(f"{line.method}\t{line.path}\t{line.body}\n")
    return path


def get(path: str, **params: object) -> RequestLine:
    return RequestLine("GET", f"{path}?{urlencode(params)}" if params else path)


def _search_params(rng: random.Random, *, stores: int, in_stock: bool) -> dict[str, object]:
    CATALOG, MODIFIERS = _vocabulary()
    category = rng.choice(list(CATALOG))
    word = rng.choice([*CATALOG[category], *MODIFIERS])
    low = rng.randint(100, 150_000)
    high = low + rng.randint(2_000, 60_000)
    params: dict[str, object] = {
        "q": word.split()[0].lower() if rng.random() < 0.5 else word,
        "min_price": f"{low / 100:.2f}",
        "max_price": f"{high / 100:.2f}",
        "category": category,
        "store_id": rng.randint(1, stores),
    }
    if in_stock:
        params["in_stock"] = "true"
    return params


SEARCH_SHAPES = (
    "word", "two words", "prefix", "typo", "word + category", "word + price",
    "word + store in stock", "all filters", "word + ordering",
)  # fmt: skip


def _typo(rng: random.Random, word: str) -> str:
    """One edit that leaves no catalog word: a dropped, doubled or swapped letter."""
    at = rng.randrange(1, len(word) - 1)
    edits = [
        word[:at] + word[at + 1 :],
        word[:at] + word[at] + word[at:],
        word[:at] + word[at + 1] + word[at] + word[at + 2 :],
    ]
    return rng.choice(edits)


def _search_mix_params(rng: random.Random, *, stores: int, shape: str) -> dict[str, object]:
    CATALOG, MODIFIERS = _vocabulary()
    category = rng.choice(list(CATALOG))
    noun = rng.choice(CATALOG[category])
    modifier = rng.choice(MODIFIERS)
    word = rng.choice([noun, modifier]).split()[-1].lower()
    params: dict[str, object] = {"q": word}
    if shape == "two words":
        words = [modifier.lower(), noun.lower()]
        params["q"] = " ".join(words if rng.random() < 0.7 else words[::-1])
    elif shape == "prefix":
        params["q"] = word[: rng.randint(3, max(3, len(word) - 1))]
    elif shape == "typo":
        params["q"] = _typo(rng, word) if len(word) > 4 else word
    if shape in {"word + category", "all filters"}:
        params["category"] = category
    if shape in {"word + price", "all filters"}:
        low = rng.randint(100, 150_000)
        params["min_price"] = f"{low / 100:.2f}"
        params["max_price"] = f"{(low + rng.randint(2_000, 60_000)) / 100:.2f}"
    if shape in {"word + store in stock", "all filters"}:
        params["in_stock"] = "true"
    if shape == "word + ordering":
        params["ordering"] = rng.choice(["price", "-price", "newest", "title"])
    if "in_stock" in params or rng.random() < 0.5:
        params["store_id"] = rng.randint(1, stores)
    return params


def uncached_search(*, count: int, stores: int, seed: int = 1) -> list[RequestLine]:
    """A mix of every query shape (SEARCH_SHAPES, equally often), all different: no request
    can be answered from the cache, each is a search the server has not seen."""
    rng = random.Random(seed)
    seen: set[str] = set()
    lines = []
    while len(lines) < count:
        shape = rng.choice(SEARCH_SHAPES)
        line = get("/api/search/products/", **_search_mix_params(rng, stores=stores, shape=shape))
        if line.path not in seen:
            seen.add(line.path)
            lines.append(line)
    return lines


@dataclass(frozen=True)
class SearchQuery:
    """One search of the side-by-side runs, sent to our API and to Typesense alike."""

    q: str
    category_id: int | None = None
    in_stock_store: int | None = None
    min_price: str | None = None
    max_price: str | None = None


VERSUS_SHAPES = ("word", "prefix", "typo", "two words")
VERSUS_FILTERS = ("none", "category", "store in stock")
_WORD = re.compile(r"[^\W_]+")  # runs of letters and digits, as search_normalize splits


def _versus_query(
    rng: random.Random, *, title: str, category_id: int, stores: int
) -> SearchQuery | None:
    """A search a shopper who wants this product might type, or None if its title has no word
    long enough for the drawn shape."""
    words = [w.lower() for w in _WORD.findall(title) if len(w) >= 3 and not w.isdigit()]
    shape, scope = rng.choice(VERSUS_SHAPES), rng.choice(VERSUS_FILTERS)
    letters_only = [w for w in words if w.isalpha() and len(w) >= 5]
    if shape == "two words" and len(words) >= 2:
        at = rng.randrange(len(words) - 1)
        q = f"{words[at]} {words[at + 1]}"
    elif shape == "prefix" and letters_only:
        word = rng.choice(letters_only)
        q = word[: rng.randint(3, len(word) - 1)]
    elif shape == "typo" and letters_only:
        q = _typo(rng, rng.choice(letters_only))
    elif shape == "word" and words:
        q = rng.choice(words)
    else:
        return None
    if scope == "category":
        return SearchQuery(q, category_id=category_id)
    if scope == "store in stock":
        return SearchQuery(q, in_stock_store=rng.randint(1, stores))
    return SearchQuery(q)


def versus_queries(
    *, titles: Sequence[tuple[str, int]], stores: int, count: int, seed: int
) -> list[SearchQuery]:
    """`count` different searches (VERSUS_SHAPES x VERSUS_FILTERS, drawn evenly) made from
    catalog titles (title, category id): a word, a prefix of a word, a word with a typo, two
    adjacent words; alone, in the title's category, or in stock in a random store."""
    rng = random.Random(seed)
    queries: dict[SearchQuery, None] = {}
    for title, category_id in titles:
        query = _versus_query(rng, title=title, category_id=category_id, stores=stores)
        if query is not None:
            queries[query] = None
        if len(queries) == count:
            return list(queries)
    raise ValueError(f"{len(titles)} titles made only {len(queries)} different queries")


def with_price_bounds(queries: Sequence[SearchQuery], *, seed: int) -> list[SearchQuery]:
    """The same searches, each within random price bounds (as `_search_mix_params` draws)."""
    rng = random.Random(seed)
    bounded = []
    for query in queries:
        low = rng.randint(100, 150_000)
        high = low + rng.randint(2_000, 60_000)
        bounded.append(replace(query, min_price=f"{low / 100:.2f}", max_price=f"{high / 100:.2f}"))
    return bounded


def our_search(query: SearchQuery) -> RequestLine:
    return _our_search(query, facets=False)


def our_search_with_facets(query: SearchQuery) -> RequestLine:
    """The same search asking for the category and price facets too."""
    return _our_search(query, facets=True)


def _our_search(query: SearchQuery, *, facets: bool) -> RequestLine:
    params: dict[str, object] = {"q": query.q}
    if query.category_id is not None:
        params["category"] = query.category_id
    if query.in_stock_store is not None:
        params.update(store_id=query.in_stock_store, in_stock="true")
    if query.min_price is not None:
        params.update(min_price=query.min_price, max_price=query.max_price)
    if facets:
        params["facets"] = "category,price"
    return get("/api/search/products/", **params)


def typesense_search(query: SearchQuery) -> RequestLine:
    return RequestLine(
        "GET",
        typesense_server.search_path(
            q=query.q, category_id=query.category_id, in_stock_store=query.in_stock_store,
            min_price=query.min_price, max_price=query.max_price,
        ),
    )  # fmt: skip


def hot_search(
    *, count: int, stores: int, seed: int = 2, with_store: bool = True
) -> list[RequestLine]:
    """A few popular searches. Without in_stock: in-stock searches are never cached by design.
    `with_store=False`: the same searches without store_id (no live stock to read)."""
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        params = _search_params(rng, stores=stores, in_stock=False)
        if not with_store:
            del params["store_id"]
        lines.append(get("/api/search/products/", **params))
    return lines


def hot_suggest(*, count: int, seed: int = 3) -> list[RequestLine]:
    rng = random.Random(seed)
    CATALOG, MODIFIERS = _vocabulary()
    words = sorted({w for nouns in CATALOG.values() for w in nouns} | set(MODIFIERS))
    prefixes = sorted({w[: rng.randint(3, min(6, len(w)))].lower() for w in words if len(w) >= 3})
    return [get("/api/search/suggest/", q=prefix) for prefix in rng.sample(prefixes, count)]


def listing_page(path: str, cursor: str | None = None) -> list[RequestLine]:
    """One page of a cursor-paged listing, the first or the one `cursor` names."""
    return [get(path, cursor=cursor) if cursor else get(path)]


def single_sku_orders(*, product_id: int, count: int) -> list[Order]:
    return [[(product_id, 1)] for _ in range(count)]


def multi_sku_orders(*, product_ids: Sequence[int], count: int, seed: int = 5) -> list[Order]:
    """Random orders of 1-4 distinct hot products, 1-3 units each, in random line order."""
    rng = random.Random(seed)
    return [
        [(product, rng.randint(1, 3)) for product in rng.sample(product_ids, rng.randint(1, 4))]
        for _ in range(count)
    ]


def order_requests(*, store_id: int, orders: Sequence[Order]) -> list[RequestLine]:
    return [
        RequestLine(
            "POST",
            "/orders/",
            json.dumps(
                {
                    "store": store_id,
                    "items": [{"product_id": p, "quantity": q} for p, q in order],
                    "email": f"buyer{number}@bench.example",
                },
                separators=(",", ":"),
            ),
        )
        for number, order in enumerate(orders)
    ]


def bulk_set_body(*, product_ids: Sequence[int], seed: int) -> str:
    """A warehouse sync's body: every product set to a random quantity (0-400)."""
    rng = random.Random(seed)
    lines = [{"product_id": p, "quantity": rng.randint(0, 400)} for p in product_ids]
    body = {"mode": "set", "reason": "count", "reference": f"bench sync {seed}", "lines": lines}
    return json.dumps(body, separators=(",", ":"))
