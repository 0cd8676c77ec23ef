"""A catalog change made by any path shows in the very next search and suggestion, cached or not,
on every web process: the triggers move the catalog version in the writing transaction, and
each request reads it (with its rows) from the database, where no process keeps a copy."""

import io

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from storefront.catalog.models import Category, Product

SEARCH = reverse("search-products")
SUGGEST = reverse("search-suggest")


def results(api_client, **params) -> list[dict]:
    response = api_client.get(SEARCH, params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def suggested(api_client, q: str) -> list[str]:
    return [row["title"] for row in api_client.get(SUGGEST, {"q": q}).json()["results"]]


@pytest.fixture
def lamp(catalog_factory):
    return catalog_factory.product("Pro Lamp", price="20.00", category="Home")


@pytest.fixture
def cached(api_client, lamp):
    """The searches and suggestions the tests change under, each answered twice (now cached)."""
    for _ in range(2):
        assert [r["price"] for r in results(api_client, q="lamp")] == ["20.00"]
        assert results(api_client, q="lamp", max_price="25")
        assert suggested(api_client, "pro") == ["Pro Lamp"]


def raw_sql(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_model_save(api_client, lamp, cached):
    lamp.title = "Pro Lantern"
    lamp.save()
    assert [r["title"] for r in results(api_client, q="lamp")] == []
    assert suggested(api_client, "pro") == ["Pro Lantern"]


def test_queryset_update_of_a_price(api_client, lamp, cached):
    Product.objects.filter(pk=lamp.pk).update(price="30.00")
    assert [r["price"] for r in results(api_client, q="lamp")] == ["30.00"]
    assert results(api_client, q="lamp", max_price="25") == []


def test_raw_sql_update_of_a_description(api_client, lamp, cached):
    raw_sql("UPDATE catalog_product SET description = 'solar' WHERE id = %s", [lamp.pk])
    assert [r["title"] for r in results(api_client, q="solar")] == ["Pro Lamp"]


def test_category_moved_and_renamed(api_client, lamp, cached, catalog_factory):
    garden = catalog_factory.category("Garden")
    Product.objects.filter(pk=lamp.pk).update(category=garden)
    assert [r["category"] for r in results(api_client, q="lamp")] == ["Garden"]
    Category.objects.filter(pk=garden.pk).update(name="Outdoor")
    assert [r["category"] for r in results(api_client, q="lamp")] == ["Outdoor"]


def test_copy_of_new_products(api_client, lamp, cached):
    category = lamp.category_id
    data = io.StringIO(f"Pro Lamp Mini\t\t5.00\t{category}\t2026-01-01\t2026-01-01\n")
    with connection.cursor() as cursor:
        columns = "title, description, price, category_id, created_at, updated_at"
        with cursor.cursor.copy(f"COPY catalog_product ({columns}) FROM STDIN") as copy:
            copy.write(data.read())
    assert [r["title"] for r in results(api_client, q="lamp")] == ["Pro Lamp", "Pro Lamp Mini"]
    assert suggested(api_client, "pro") == ["Pro Lamp", "Pro Lamp Mini"]


def test_deleted_products_leave_at_once(api_client, lamp, cached):
    Product.objects.filter(pk=lamp.pk).delete()
    assert results(api_client, q="lamp") == []
    assert suggested(api_client, "pro") == []


@pytest.mark.parametrize("path", ["api", "queryset", "raw_sql"])
def test_archived_products_leave_at_once_and_come_back_when_restored(
    api_client, django_user_model, lamp, cached, path
):
    """Archived (DELETE /api/catalog/products/<id>/, or archived_at set by any other path):
    out of search, its counts, facets and suggestions at once."""
    if path == "api":
        staff = APIClient()
        staff.force_authenticate(django_user_model.objects.create_superuser("catalog-admin"))
        assert staff.delete(f"/api/catalog/products/{lamp.pk}/").status_code == 200
    elif path == "queryset":
        Product.objects.filter(pk=lamp.pk).update(archived_at=timezone.now())
    else:
        raw_sql("UPDATE catalog_product SET archived_at = now() WHERE id = %s", [lamp.pk])
    body = api_client.get(SEARCH, {"q": "lamp", "facets": "category"}).json()
    assert (body["results"], body["count"], body["facets"]["category"]) == ([], 0, [])
    assert suggested(api_client, "pro") == []
    Product.objects.filter(pk=lamp.pk).update(archived_at=None)  # back on sale (admin, SQL)
    assert [r["title"] for r in results(api_client, q="lamp")] == ["Pro Lamp"]


def test_an_unrelated_column_keeps_the_cache(api_client, lamp, cached):
    version = _version()
    raw_sql("UPDATE catalog_product SET updated_at = now() WHERE id = %s", [lamp.pk])
    assert _version() == version


def _version() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM search_catalog")
        return cursor.fetchone()[0]
