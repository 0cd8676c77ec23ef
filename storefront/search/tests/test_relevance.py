"""Ranking and matching of every query shape, on PostgreSQL with the search tables' triggers."""

from decimal import Decimal

import pytest
from django.db import connection

from storefront.catalog.models import Product
from storefront.inventory.models import Inventory
from storefront.search.selectors import SearchQuery
from storefront.search.services import SearchPage, search_page

pytestmark = pytest.mark.django_db


def product_search(**params) -> SearchPage:
    return search_page(SearchQuery(**params))


def titles(**params) -> list[str]:
    return [row["title"] for row in product_search(**params).rows]


@pytest.fixture
def mice(catalog_factory):
    f = catalog_factory
    return {
        "phrase": f.product("Wireless Mouse K12", price="30.00"),
        "phrase_later": f.product("Ultra Wireless Mouse A1", price="40.00"),
        "reversed": f.product("Mouse Wireless Edition", price="20.00"),
        "apart": f.product("Wireless Gaming Mouse", price="50.00"),
        "one_word": f.product("Wireless Keyboard", price="25.00"),
        "in_description": f.product("Desk Set", price="60.00", description="A wireless mouse."),
        "substring": f.product("Mousepad Wirelessly Charging", price="15.00"),
    }


def test_several_words_all_count_phrase_first_then_any_order(mice):
    assert titles(q="wireless mouse") == [
        "Wireless Mouse K12",  # the title starts with the phrase
        "Ultra Wireless Mouse A1",  # a later word starts it
        "Mouse Wireless Edition",  # the words in another order
        "Mousepad Wirelessly Charging",  # every word in the title (as substrings), by title
        "Wireless Gaming Mouse",
        "Desk Set",  # every word somewhere, the description included
    ]


def test_a_word_matches_as_a_prefix_of_a_title_word(mice):
    assert titles(q="wirel mou")[:3] == [
        "Wireless Mouse K12", "Ultra Wireless Mouse A1", "Mouse Wireless Edition",
    ]  # fmt: skip


def test_punctuation_and_case_do_not_matter(catalog_factory):
    catalog_factory.product("T-Shirt, Blue")
    catalog_factory.product("Shirt Box")
    # "T" is a word of one letter: a whole word, so "Shirt Box" does not match.
    assert titles(q="t shirt") == ["T-Shirt, Blue"]
    assert titles(q="T-SHIRT blue") == ["T-Shirt, Blue"]


def test_ties_within_a_tier_are_stable_by_term_then_id(catalog_factory):
    second = catalog_factory.product("Pro Lamp")
    first = catalog_factory.product("Pro Lamp")
    catalog_factory.product("Pro Alpha")
    page = product_search(q="pro lamp")
    assert [row["id"] for row in page.rows] == sorted([first.pk, second.pk])
    assert titles(q="pro") == ["Pro Alpha", "Pro Lamp", "Pro Lamp"]


def test_every_filter_applies_within_every_tier(mice, catalog_factory):
    store = catalog_factory.store()
    for key in ("phrase", "reversed", "in_description"):
        catalog_factory.stock(store, mice[key], 2)
    catalog_factory.stock(store, mice["phrase_later"], 0)
    found = titles(q="wireless mouse", store_id=store.pk, in_stock=True, max_price=Decimal("30"))
    assert found == ["Wireless Mouse K12", "Mouse Wireless Edition"]


def test_in_stock_is_exact_after_a_stock_change(mice, catalog_factory):
    store = catalog_factory.store()
    row = catalog_factory.stock(store, mice["phrase"], 1)
    assert titles(q="wireless", store_id=store.pk, in_stock=True) == ["Wireless Mouse K12"]
    Inventory.objects.filter(pk=row.pk).update(quantity=0)
    assert titles(q="wireless", store_id=store.pk, in_stock=True) == []


def test_pages_continue_across_tiers_without_repeats(mice):
    seen, page = [], 1
    while True:
        result = product_search(q="wireless", page=page, page_size=2)
        seen += [row["title"] for row in result.rows]
        if not result.has_next:
            break
        page += 1
    assert seen == titles(q="wireless", page_size=20)
    assert len(seen) == len(set(seen)) == 7


def test_typo_correction_per_word(mice):
    page = product_search(q="wirelss mouse")
    assert page.matches.fuzzy is True
    assert [row["title"] for row in page.rows][:2] == [
        "Wireless Mouse K12",
        "Ultra Wireless Mouse A1",
    ]


def test_no_typo_fallback_when_the_filters_exclude_a_known_word(mice):
    page = product_search(q="wireless", min_price=Decimal("1000"))
    assert (page.rows, page.matches.fuzzy) == ([], True)


@pytest.mark.parametrize("ordering", ["price", "-price", "newest", "title"])
def test_explicit_orderings_with_several_words(mice, ordering):
    expected = Product.objects.filter(
        pk__in=[m.pk for key, m in mice.items() if key != "one_word"]
    ).order_by(*{"price": ("price", "id"), "-price": ("-price", "-id"),
                 "newest": ("-created_at", "-id"), "title": ("title", "id")}[ordering])  # fmt: skip
    # (The fixture's titles sort alike by title and by normalized title.)
    assert titles(q="wireless mouse", ordering=ordering) == [p.title for p in expected]


def document_of(product_id: int) -> tuple[str, list[str], Decimal] | None:
    """The document's title key, its words (sorted) and price."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT title_key, tsvector_to_array(words), price FROM search_document"
            " WHERE product_id = %s",
            [product_id],
        )
        found = cursor.fetchone()
    return None if found is None else (found[0], sorted(found[1]), found[2])


def test_triggers_keep_the_documents_equal_to_the_catalog(catalog_factory):
    product = catalog_factory.product("Smart Lamp", price="10.00", description="Warm light.")
    product_id = product.pk
    assert document_of(product_id) == (
        "SMART LAMP", ["LAMP", "LIGHT", "SMART", "WARM"], Decimal("10.00"),
    )  # fmt: skip
    Product.objects.filter(pk=product.pk).update(title="Éco Desk-Lamp", price=Decimal("12.00"))
    assert document_of(product_id) == (
        "ECO DESK LAMP", ["DESK", "ECO", "LAMP", "LIGHT", "WARM"], Decimal("12.00"),
    )  # fmt: skip
    assert titles(q="desk lamp") == ["Éco Desk-Lamp"]
    product.delete()
    assert document_of(product_id) is None


def test_rows_written_without_the_orm_are_indexed(catalog_factory):
    category = catalog_factory.category()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO catalog_product (title, description, price, category_id, created_at,"
            " updated_at) VALUES ('Raw Kettle', '', 5, %s, now(), now())",
            [category.pk],
        )
    assert titles(q="kettle") == ["Raw Kettle"]


def test_title_order_is_the_normalized_title_for_every_query(mice, catalog_factory):
    catalog_factory.product("aardvark wireless-Charger", price="5.00")
    assert titles(q="wireless", ordering="title") == [
        "aardvark wireless-Charger",  # case and punctuation ignored
        "Desk Set",  # "wireless" only in its description
        "Mouse Wireless Edition",
        "Mousepad Wirelessly Charging",  # inside a longer word
        "Ultra Wireless Mouse A1",
        "Wireless Gaming Mouse",
        "Wireless Keyboard",
        "Wireless Mouse K12",
    ]
    page = product_search(q="wireless", ordering="title", page=2, page_size=3)
    assert [row["title"] for row in page.rows] == [
        "Mousepad Wirelessly Charging", "Ultra Wireless Mouse A1", "Wireless Gaming Mouse",
    ]  # fmt: skip
    assert titles(q="wireless", ordering="title", max_price=Decimal("20")) == [
        "aardvark wireless-Charger", "Mouse Wireless Edition", "Mousepad Wirelessly Charging",
    ]  # fmt: skip
