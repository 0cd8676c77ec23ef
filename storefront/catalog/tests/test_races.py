"""Real races on the catalog writes: threads, each on its own PostgreSQL connection."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from storefront.catalog.models import Category, Product
from storefront.common.models import IdempotentRequest
from storefront.orders.tests.concurrency import run_concurrently

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def root():
    return get_user_model().objects.create_superuser(f"root-{uuid.uuid4()}")


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_simultaneous_retries_with_one_key_create_one_product(root, catalog_factory):
    catalog_factory.category("Home")
    key = str(uuid.uuid4())
    body = {"title": "Kettle", "price": "30.00", "category": "Home"}

    def post(_: int):
        response = client_of(root).post(
            "/api/catalog/products/", body, format="json", HTTP_IDEMPOTENCY_KEY=key
        )
        return response.status_code, response.json()["id"]

    results = run_concurrently(20, post)

    assert [r for r in results if isinstance(r, Exception)] == []
    assert {status for status, _ in results} == {201}
    assert len({product_id for _, product_id in results}) == 1
    assert Product.objects.filter(title="Kettle").count() == 1
    assert IdempotentRequest.objects.filter(key=key).count() == 1


def test_simultaneous_creations_of_one_category_name_make_one(root):
    def post(index: int):
        name = "Garden" if index % 2 else "GARDEN"
        response = client_of(root).post("/api/catalog/categories/", {"name": name}, format="json")
        return response.status_code

    statuses = run_concurrently(20, post)

    assert sorted(statuses) == [201] + [400] * 19
    assert Category.objects.filter(name__iexact="garden").count() == 1
