"""Request lists replayed by wrk, and the order mixes shared with the raw-SQL floor.

Every list is generated from a fixed seed, so two runs send the same requests.
"""

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode


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
