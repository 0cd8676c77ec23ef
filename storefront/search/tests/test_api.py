import pytest
from django.urls import reverse

SEARCH = reverse("search-products")
SUGGEST = reverse("search-suggest")


def search(api_client, **params):
    response = api_client.get(SEARCH, params)
    assert response.status_code == 200, response.json()
    return response.json()


def result_titles(body) -> list[str]:
    return [item["title"] for item in body["results"]]


def field_errors(response) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"]["code"] == "invalid"
    return body["error"]["fields"]


@pytest.fixture
def stocked(catalog_factory, search_catalog):
    """Store A stocks Pro (3) and Pro Laptop (sold out); store B stocks Ultra Pro Mouse (2)."""
    store_a, store_b = catalog_factory.store("A"), catalog_factory.store("B")
    catalog_factory.stock(store_a, search_catalog["exact"], 3)
    catalog_factory.stock(store_a, search_catalog["prefix"], 0)
    catalog_factory.stock(store_b, search_catalog["word"], 2)
    return store_a, store_b


class TestResults:
    def test_result_shape_without_store(self, api_client, search_catalog):
        body = search(api_client, q="Pro Laptop")
        assert body["results"] == [
            {
                "id": search_catalog["prefix"].pk,
                "title": "Pro Laptop",
                "price": "900.00",
                "category": "Electronics",
            }
        ]
        assert "store_quantity" not in body["results"][0]

    def test_store_quantity_present_for_every_result_with_store(self, api_client, stocked):
        store_a, _ = stocked
        body = search(api_client, q="pro", store_id=store_a.pk)
        assert {item["title"]: item["store_quantity"] for item in body["results"]} == {
            "Pro": 3,
            "Pro Laptop": 0,
            "Ultra Pro Mouse": 0,  # stocked elsewhere only
            "Blender": 0,
        }

    def test_relevance_is_the_default_with_q(self, api_client, search_catalog):
        assert result_titles(search(api_client, q="pro")) == [
            "Pro", "Pro Laptop", "Ultra Pro Mouse", "Blender",  # not "Improved": words start
        ]  # fmt: skip

    def test_title_is_the_default_without_q(self, api_client, search_catalog):
        assert result_titles(search(api_client)) == sorted(p.title for p in search_catalog.values())

    @pytest.mark.parametrize(
        ("ordering", "expected"),
        [
            ("price", ["Garden Hose", "Ultra Pro Mouse", "Improved Kettle", "Pro", "Blender"]),
            ("-price", ["Pro Laptop", "Blender", "Pro", "Improved Kettle", "Ultra Pro Mouse"]),
            ("newest", ["Garden Hose", "Blender", "Improved Kettle", "Ultra Pro Mouse"]),
            ("title", ["Blender", "Garden Hose", "Improved Kettle", "Pro", "Pro Laptop"]),
        ],
    )
    def test_ordering(self, api_client, search_catalog, ordering, expected):
        body = search(api_client, ordering=ordering, page_size=len(expected))
        assert result_titles(body) == expected

    def test_description_matches_rank_below_title_matches(self, api_client, search_catalog):
        assert result_titles(search(api_client, q="chefs")) == ["Blender"]
        assert result_titles(search(api_client, q="pro"))[-1] == "Blender"


class TestFilters:
    def test_price_bounds_are_inclusive(self, api_client, search_catalog):
        body = search(api_client, min_price="25", max_price="50.00", ordering="price")
        assert result_titles(body) == ["Ultra Pro Mouse", "Improved Kettle", "Pro"]

    def test_only_min_or_only_max(self, api_client, search_catalog):
        assert result_titles(search(api_client, min_price="900")) == ["Pro Laptop"]
        assert result_titles(search(api_client, max_price="15")) == ["Garden Hose"]

    def test_category_by_name_is_case_insensitive(self, api_client, search_catalog):
        assert result_titles(search(api_client, category="hOmE")) == ["Blender", "Improved Kettle"]

    def test_category_by_id(self, api_client, search_catalog):
        garden_id = search_catalog["other"].category_id
        assert result_titles(search(api_client, category=str(garden_id))) == ["Garden Hose"]

    def test_in_stock_without_store_means_any_store(self, api_client, stocked):
        assert result_titles(search(api_client, in_stock="true")) == ["Pro", "Ultra Pro Mouse"]

    def test_in_stock_with_store_means_that_store(self, api_client, stocked):
        store_a, store_b = stocked
        body = search(api_client, in_stock="true", store_id=store_a.pk)
        assert [(i["title"], i["store_quantity"]) for i in body["results"]] == [("Pro", 3)]
        body = search(api_client, in_stock="True", store_id=store_b.pk)
        assert result_titles(body) == ["Ultra Pro Mouse"]

    def test_in_stock_false_is_no_filter(self, api_client, stocked, search_catalog):
        assert len(search(api_client, in_stock="false")["results"]) == len(search_catalog)

    def test_everything_combined(self, api_client, stocked):
        store_a, _ = stocked
        body = search(
            api_client,
            q="PRO",
            min_price="10",
            max_price="100",
            category="electronics",
            store_id=store_a.pk,
            in_stock="true",
            ordering="-price",
        )
        assert body["results"] == [
            {
                "id": body["results"][0]["id"],
                "title": "Pro",
                "price": "50.00",
                "category": "Electronics",
                "store_quantity": 3,
            }
        ]

    def test_like_wildcards_in_q_are_literal(self, api_client, catalog_factory):
        catalog_factory.product("100% Cotton Tee")
        catalog_factory.product("Plain_Tee")
        catalog_factory.product("Linen Tee")
        assert result_titles(search(api_client, q="%")) == ["100% Cotton Tee"]
        assert result_titles(search(api_client, q="_")) == ["Plain_Tee"]

    def test_no_match_is_an_empty_page(self, api_client, search_catalog):
        body = search(api_client, q="zzzzqqqq")
        assert body["results"] == []
        assert body["has_next"] is False


class TestPagination:
    @pytest.fixture
    def many(self, catalog_factory):
        return [catalog_factory.product(f"Item {number:02}") for number in range(25)]

    def test_pages_without_count(self, api_client, many):
        first = search(api_client, page_size=10)
        assert result_titles(first) == [f"Item {n:02}" for n in range(10)]
        assert first["has_next"] is True
        assert first["previous"] is None
        assert "page=2" in first["next"]
        assert "page_size=10" in first["next"]

        last = api_client.get(first["next"]).json()
        last = search(api_client, page_size=10, page=3)
        assert result_titles(last) == [f"Item {n:02}" for n in range(20, 25)]
        assert last["has_next"] is False
        assert last["next"] is None
        assert "page=2" in last["previous"]

    def test_next_link_is_followable(self, api_client, many):
        first = search(api_client, page_size=10)
        second = api_client.get(first["next"]).json()
        assert result_titles(second) == [f"Item {n:02}" for n in range(10, 20)]

    def test_page_past_the_end_is_empty(self, api_client, many):
        body = search(api_client, page_size=10, page=4)
        assert body["results"] == []
        assert body["has_next"] is False

    def test_exactly_full_last_page_has_no_next(self, api_client, many):
        assert search(api_client, page_size=25)["has_next"] is False

    def test_page_size_defaults_and_is_capped(self, api_client, many, settings):
        assert len(search(api_client)["results"]) == 20
        settings.MAX_PAGE_SIZE = 5
        body = search(api_client, page_size=1000)
        assert body["page_size"] == 5
        assert len(body["results"]) == 5


class TestInvalidInput:
    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"min_price": "abc"}, "min_price"),
            ({"max_price": "1e"}, "max_price"),
            ({"min_price": "-1"}, "min_price"),
            ({"max_price": "NaN"}, "max_price"),
            ({"min_price": "1.001"}, "min_price"),
            ({"min_price": "10", "max_price": "9.99"}, "min_price"),
            ({"store_id": "abc"}, "store_id"),
            ({"store_id": "0"}, "store_id"),
            ({"store_id": "999999"}, "store_id"),
            ({"store_id": "9" * 30}, "store_id"),
            ({"in_stock": "yes"}, "in_stock"),
            ({"in_stock": "1"}, "in_stock"),
            ({"in_stock": "truee"}, "in_stock"),
            ({"q": "x" * 101}, "q"),
            ({"q": "pro\x00"}, "q"),
            ({"ordering": "random"}, "ordering"),
            ({"category": "No Such Category"}, "category"),
            ({"page": "0"}, "page"),
            ({"page": "abc"}, "page"),
            ({"page": "501"}, "page"),
            ({"page_size": "0"}, "page_size"),
        ],
    )
    def test_bad_parameter_is_a_400_with_a_field_error(self, api_client, db, params, field):
        fields = field_errors(api_client.get(SEARCH, params))
        assert list(fields) == [field]

    def test_unknown_store_message(self, api_client, db):
        fields = field_errors(api_client.get(SEARCH, {"store_id": 424242}))
        assert fields == {"store_id": ["Unknown store."]}

    def test_several_bad_parameters_are_reported_together(self, api_client, db):
        fields = field_errors(api_client.get(SEARCH, {"min_price": "x", "in_stock": "maybe"}))
        assert set(fields) == {"min_price", "in_stock"}

    def test_q_is_trimmed_and_blank_means_no_q(self, api_client, search_catalog):
        assert result_titles(search(api_client, q="   ")) == result_titles(search(api_client))
        assert result_titles(search(api_client, q="  laptop ")) == ["Pro Laptop"]


class TestSuggest:
    def test_suggestions(self, api_client, catalog_factory):
        laptop = catalog_factory.product("Pro Laptop")
        mouse = catalog_factory.product("Ultra Pro Mouse")
        catalog_factory.product("Pro Laptop")
        response = api_client.get(SUGGEST, {"q": "pro"})
        assert response.status_code == 200
        assert response.json() == {
            "results": [
                {"id": laptop.pk, "title": "Pro Laptop"},
                {"id": mouse.pk, "title": "Ultra Pro Mouse"},
            ]
        }

    @pytest.mark.parametrize("q", [None, "", "ab", "  ab  ", "      "])
    def test_short_q_is_a_400_with_a_clear_message(self, api_client, db, q):
        response = api_client.get(SUGGEST, {} if q is None else {"q": q})
        assert field_errors(response) == {"q": ["Type at least 3 characters to get suggestions."]}

    def test_absurdly_long_q_is_a_400(self, api_client, db):
        assert "q" in field_errors(api_client.get(SUGGEST, {"q": "x" * 101}))

    def test_q_is_trimmed(self, api_client, catalog_factory):
        catalog_factory.product("Pro Laptop")
        body = api_client.get(SUGGEST, {"q": "  pro  "}).json()
        assert [s["title"] for s in body["results"]] == ["Pro Laptop"]


def test_schema_documents_both_endpoints(api_client, db):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/search/products/"]["get"]
    search_params = {parameter["name"] for parameter in operation["parameters"]}
    assert {"q", "min_price", "max_price", "category", "store_id", "in_stock", "ordering"} <= (
        search_params
    )
    assert "429" in schema["paths"]["/api/search/suggest/"]["get"]["responses"]
