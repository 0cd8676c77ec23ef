from decimal import Decimal

from storefront.catalog.selectors import category_get_by_reference, product_filter


def test_category_by_name_ignores_case_and_surrounding_spaces(catalog_factory):
    home = catalog_factory.category("Home")
    assert category_get_by_reference(reference="  hOME ") == home


def test_category_by_id(catalog_factory):
    home = catalog_factory.category("Home")
    assert category_get_by_reference(reference=str(home.pk)) == home


def test_numeric_name_is_found_when_no_id_matches(catalog_factory):
    catalog_factory.category("Home")
    year = catalog_factory.category("2026")
    assert category_get_by_reference(reference="2026") == year


def test_unknown_category_is_none(db):
    assert category_get_by_reference(reference="Nope") is None
    assert category_get_by_reference(reference="12345") is None


def test_product_filter_price_bounds_are_inclusive_and_category_narrows(catalog_factory):
    cheap = catalog_factory.product("Cheap", price="10.00")
    middle = catalog_factory.product("Middle", price="20.00", category="Home")
    catalog_factory.product("Dear", price="30.00")

    def titles(**filters):
        return sorted(p.title for p in product_filter(**filters))

    assert titles(min_price=Decimal("10"), max_price=Decimal("20")) == ["Cheap", "Middle"]
    assert titles(min_price=Decimal("20.01")) == ["Dear"]
    assert titles(max_price=Decimal("9.99")) == []
    assert titles(category_id=middle.category_id) == ["Middle"]
    assert titles() == sorted(["Cheap", "Middle", "Dear"])
    assert cheap.category_id != middle.category_id
