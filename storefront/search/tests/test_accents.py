"""Accents and case are folded by one function (search_normalize, with unaccent) applied to the
catalog and to every query: search and suggest alike."""

import pytest
from django.urls import reverse

from storefront.search.selectors import SearchQuery, search_matches

SEARCH = reverse("search-products")
SUGGEST = reverse("search-suggest")


@pytest.fixture
def cafe(catalog_factory):
    return [
        catalog_factory.product("Café Crème Mug"),
        catalog_factory.product("CAFE Table"),
        catalog_factory.product("Plain Mug", description="Für den Kaffee: café au lait"),
        catalog_factory.product("Tea Pot"),
    ]


@pytest.mark.parametrize("q", ["cafe", "CAFÉ", "Café", "cAfÈ"])
def test_every_spelling_finds_the_same_products(api_client, cafe, q):
    body = api_client.get(SEARCH, {"q": q}).json()
    assert [r["title"] for r in body["results"]] == ["Café Crème Mug", "CAFE Table", "Plain Mug"]
    assert body["count"] == 3


@pytest.mark.parametrize("q", ["creme mug", "CRÈME", "fur den"])
def test_accented_words_in_titles_and_descriptions(cafe, q):
    assert search_matches(SearchQuery(q=q)).ids


@pytest.mark.parametrize("q", ["caf", "CAFÉ", "Café"])
def test_suggestions_fold_accents_too(api_client, cafe, q):
    body = api_client.get(SUGGEST, {"q": q}).json()
    assert [r["title"] for r in body["results"]] == ["Café Crème Mug", "CAFE Table"]


def test_a_typo_is_corrected_to_an_accented_word(cafe):
    matches = search_matches(SearchQuery(q="cremme"))
    assert matches.fuzzy is True
    assert matches.ids == [cafe[0].pk]
