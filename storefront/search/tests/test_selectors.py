from decimal import Decimal

from storefront.search.selectors import SearchQuery
from storefront.search.services import SearchPage, search_page, suggestions


def product_search(**params) -> SearchPage:
    return search_page(SearchQuery(**params))


def product_suggest(*, q: str) -> list[dict]:
    return [{"id": row["id"], "title": row["title"]} for row in suggestions(q)]


def titles(page) -> list[str]:
    return [row["title"] for row in page.rows]


def test_relevance_ranks_title_start_then_later_title_word_then_description(
    search_catalog,
):
    page = product_search(q="pro")
    # "Improved Kettle" holds PRO inside a word, which is no match: query words start words
    assert titles(page) == ["Pro", "Pro Laptop", "Ultra Pro Mouse", "Blender"]
    assert page.matches.fuzzy is False


def test_matching_is_case_insensitive(search_catalog):
    assert titles(product_search(q="PRO")) == titles(product_search(q="pro"))


def test_ties_within_a_rank_are_broken_by_title(catalog_factory):
    for title in ["Pro Zeta", "Pro Alpha", "Pro Mid"]:
        catalog_factory.product(title)
    assert titles(product_search(q="pro")) == ["Pro Alpha", "Pro Mid", "Pro Zeta"]


def test_explicit_ordering_overrides_relevance(search_catalog):
    assert titles(product_search(q="pro", ordering="price")) == [
        "Ultra Pro Mouse", "Pro", "Blender", "Pro Laptop",
    ]  # fmt: skip


def test_relevance_without_q_orders_by_title(search_catalog):
    assert titles(product_search(ordering="relevance")) == sorted(
        product.title for product in search_catalog.values()
    )


def test_without_store_results_have_no_store_quantity(search_catalog):
    assert all("store_quantity" not in row for row in product_search().rows)


def test_store_quantity_is_zero_where_the_store_does_not_stock(catalog_factory, search_catalog):
    store = catalog_factory.store()
    catalog_factory.stock(store, search_catalog["exact"], 4)
    rows = product_search(store_id=store.pk).rows
    quantities = {row["title"]: row["store_quantity"] for row in rows}
    assert quantities["Pro"] == 4
    assert quantities["Pro Laptop"] == 0


def test_typo_falls_back_to_similar_titles(catalog_factory):
    catalog_factory.product("Laptop")
    catalog_factory.product("Kettle")
    page = product_search(q="Laptpo")
    assert page.matches.fuzzy is True
    assert titles(page) == ["Laptop"]


def test_typo_inside_a_long_title_is_found_by_word_similarity(catalog_factory):
    catalog_factory.product("Premium Laptop Stand with Cooling Fan X120")
    catalog_factory.product("Garden Hose")
    page = product_search(q="laptp")
    assert page.matches.fuzzy is True
    assert titles(page) == ["Premium Laptop Stand with Cooling Fan X120"]


def test_no_fallback_when_something_matched(catalog_factory):
    catalog_factory.product("Laptop")
    page = product_search(q="lapt")
    assert page.matches.fuzzy is False
    assert titles(page) == ["Laptop"]


def test_filters_combine_with_q(search_catalog):
    page = product_search(q="pro", min_price=Decimal("30"), max_price=Decimal("60"))
    assert titles(page) == ["Pro", "Blender"]


def test_suggestions_prefix_first_then_contains_each_alphabetical(catalog_factory):
    for title in ["Ultra Pro Mouse", "Pro Laptop", "Improved Kettle", "pro bag", "Pro Case"]:
        catalog_factory.product(title)
    catalog_factory.product("Blender", description="pro")  # description never suggests
    suggested = [s["title"] for s in product_suggest(q="PRO")]
    # Alphabetical ignoring case, so "pro bag" is not pushed behind every capitalised title.
    assert suggested == ["pro bag", "Pro Case", "Pro Laptop", "Improved Kettle", "Ultra Pro Mouse"]


def test_suggestions_have_no_duplicate_titles_and_carry_the_first_id(catalog_factory):
    first = catalog_factory.product("Pro Laptop")
    catalog_factory.product("Pro Laptop")
    assert product_suggest(q="pro") == [{"id": first.pk, "title": "Pro Laptop"}]


def test_at_most_ten_suggestions_and_prefix_matches_fill_them_first(catalog_factory):
    for number in range(12):
        catalog_factory.product(f"Pro Item {number:02}")
    catalog_factory.product("A Pro Thing")
    suggested = [s["title"] for s in product_suggest(q="pro")]
    assert suggested == [f"Pro Item {number:02}" for number in range(10)]
