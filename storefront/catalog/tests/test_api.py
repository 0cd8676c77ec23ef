"""The catalog API on PostgreSQL: who may write, what each write answers and keeps, retries."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from storefront.catalog.models import Category, Product
from storefront.common.models import IdempotentRequest

pytestmark = pytest.mark.django_db


def user_with(*perms: str):
    """A user holding these catalog permissions ("add_product", ...), and nothing else."""
    user = get_user_model().objects.create_user(f"user-{'-'.join(perms) or 'plain'}")
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="catalog", codename__in=perms)
    )
    return get_user_model().objects.get(pk=user.pk)  # has_perm caches; a fresh instance


@pytest.fixture
def client() -> APIClient:
    client = APIClient()
    client.default_format = "json"
    return client


@pytest.fixture
def manager(client):
    """A client authenticated as a user with every catalog write permission."""
    client.force_authenticate(
        user_with("add_product", "change_product", "delete_product", "add_category")
    )
    return client


@pytest.fixture
def lamp(catalog_factory):
    return catalog_factory.product("Desk Lamp", "24.50", category="Home", description="Warm")


# --- Who may write: every write, every kind of caller -------------------------------------------

WRITES = {
    "product_create": (
        "add_product",
        lambda c, p: c.post(
            "/api/catalog/products/",
            {"title": "Kettle", "price": "30.00", "category": "Home"},
        ),
        201,
    ),
    "product_update": (
        "change_product",
        lambda c, p: c.patch(f"/api/catalog/products/{p.pk}/", {"price": "20.00"}),
        200,
    ),
    "product_archive": (
        "delete_product",
        lambda c, p: c.delete(f"/api/catalog/products/{p.pk}/"),
        200,
    ),
    "category_create": (
        "add_category",
        lambda c, p: c.post("/api/catalog/categories/", {"name": "Garden"}),
        201,
    ),
}


@pytest.mark.parametrize("write", WRITES)
def test_a_write_without_credentials_is_401(client, lamp, write):
    _, call, _ = WRITES[write]
    response = call(client, lamp)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("write", WRITES)
def test_a_write_by_a_user_without_its_permission_is_403(client, lamp, write):
    perm, call, _ = WRITES[write]
    others = [other for other, _, _ in WRITES.values() if other != perm]
    for user in (user_with(), user_with(*others)):
        client.force_authenticate(user)
        response = call(client, lamp)
        assert response.status_code == 403, user
        assert response.json()["error"]["code"] == "permission_denied"
    lamp.refresh_from_db()
    assert (lamp.price, lamp.archived_at) == (Decimal("24.50"), None)
    assert not Product.objects.filter(title="Kettle").exists()
    assert not Category.objects.filter(name="Garden").exists()


@pytest.mark.parametrize("write", WRITES)
def test_a_write_by_a_user_with_its_permission_succeeds(client, lamp, write):
    perm, call, status = WRITES[write]
    client.force_authenticate(user_with(perm))
    assert call(client, lamp).status_code == status


@pytest.mark.parametrize("write", WRITES)
def test_a_write_by_a_superuser_succeeds(client, lamp, write):
    _, call, status = WRITES[write]
    client.force_authenticate(get_user_model().objects.create_superuser("root"))
    assert call(client, lamp).status_code == status


def test_a_token_authenticates_catalog_writes(client, lamp):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=user_with("change_product"))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.patch(f"/api/catalog/products/{lamp.pk}/", {"title": "Lamp"}).status_code == 200


# --- Products -------------------------------------------------------------------------------------


def test_a_product_is_read_by_id_publicly(client, lamp):
    response = client.get(f"/api/catalog/products/{lamp.pk}/")

    assert response.status_code == 200
    assert response.json() == {
        "id": lamp.pk,
        "title": "Desk Lamp",
        "description": "Warm",
        "price": "24.50",
        "category_id": lamp.category_id,
        "category": "Home",
        "created_at": response.json()["created_at"],
        "updated_at": response.json()["updated_at"],
        "archived_at": None,
    }


def test_an_unknown_product_is_404(client):
    client.force_authenticate(get_user_model().objects.create_superuser("root"))
    for method in (client.get, client.patch, client.delete):
        response = method("/api/catalog/products/987654/")
        assert response.status_code == 404, method
        assert response.json()["error"] == {
            "code": "not_found",
            "message": "Product 987654 does not exist.",
        }


@pytest.mark.parametrize("product_id", ["0", str(2**63), "9" * 40])
def test_an_id_no_product_can_have_is_404(client, product_id):
    client.force_authenticate(get_user_model().objects.create_superuser("root"))
    for method in (client.get, client.patch, client.delete):
        response = method(f"/api/catalog/products/{product_id}/", {"title": "x"})
        assert response.status_code == 404, method


def test_a_created_product_is_answered_and_read_back(manager, catalog_factory):
    home = catalog_factory.category("Home")
    response = manager.post(
        "/api/catalog/products/",
        {"title": "  Kettle  ", "description": "1.7 l", "price": 30.5, "category": home.pk},
    )

    assert response.status_code == 201
    created = response.json()
    product = Product.objects.get(pk=created["id"])
    assert (product.title, product.description, product.price, product.category) == (
        "Kettle",
        "1.7 l",
        Decimal("30.50"),
        home,
    )
    assert created["price"] == "30.50" and created["category"] == "Home"
    assert manager.get(f"/api/catalog/products/{created['id']}/").json() == created


def test_a_category_is_found_by_name_any_case_or_by_id_as_a_string(manager, catalog_factory):
    home = catalog_factory.category("Home")
    for reference in ("hOME", str(home.pk)):
        response = manager.post(
            "/api/catalog/products/", {"title": "Mug", "price": "5.00", "category": reference}
        )
        assert response.json()["category_id"] == home.pk, reference


def test_an_existing_id_wins_over_a_numeric_category_name(manager, catalog_factory):
    home = catalog_factory.category("Home")
    catalog_factory.category(str(home.pk))  # a category *named* like home's id
    numeric = catalog_factory.category("4242424")

    by_id = manager.post(
        "/api/catalog/products/", {"title": "A", "price": "1.00", "category": str(home.pk)}
    )
    by_name = manager.post(
        "/api/catalog/products/", {"title": "B", "price": "1.00", "category": "4242424"}
    )

    assert by_id.json()["category_id"] == home.pk
    assert by_name.json()["category_id"] == numeric.pk


def test_a_patch_changes_only_what_it_sends_and_reads_back(manager, lamp, catalog_factory):
    catalog_factory.category("Office")
    response = manager.patch(
        f"/api/catalog/products/{lamp.pk}/", {"price": "19.99", "category": "office"}
    )

    assert response.status_code == 200
    changed = response.json()
    assert (changed["title"], changed["description"], changed["price"], changed["category"]) == (
        "Desk Lamp",
        "Warm",
        "19.99",
        "Office",
    )
    assert manager.get(f"/api/catalog/products/{lamp.pk}/").json() == changed
    assert changed["updated_at"] > changed["created_at"]


def test_an_empty_patch_changes_nothing(manager, lamp):
    before = manager.get(f"/api/catalog/products/{lamp.pk}/").json()
    response = manager.patch(f"/api/catalog/products/{lamp.pk}/", {})
    assert (response.status_code, response.json()) == (200, before)


def test_an_order_placed_after_a_price_change_pays_the_new_price(manager, lamp, catalog_factory):
    store = catalog_factory.store()
    catalog_factory.stock(store, lamp, 5)
    manager.patch(f"/api/catalog/products/{lamp.pk}/", {"price": "99.00"})

    order = manager.post(
        "/orders/", {"store": store.pk, "items": [{"product_id": lamp.pk, "quantity": 2}]}
    ).json()

    assert (order["items"][0]["unit_price"], order["total"]) == ("99.00", "198.00")


INVALID_PRODUCTS = {
    "negative price": ({"price": "-0.01"}, "price"),
    "three decimals": ({"price": "1.005"}, "price"),
    "price too large": ({"price": "100000000.00"}, "price"),
    "price not a number": ({"price": "abc"}, "price"),
    "price NaN": ({"price": "NaN"}, "price"),
    "price a boolean": ({"price": True}, "price"),
    "blank title": ({"title": "   "}, "title"),
    "title too long": ({"title": "x" * 201}, "title"),
    "null title": ({"title": None}, "title"),
    "NUL in title": ({"title": "a\x00b"}, "title"),
    "unknown category name": ({"category": "Nope"}, "category"),
    "unknown category id": ({"category": 987654}, "category"),
    "huge category id": ({"category": 10**30}, "category"),
    "category a list": ({"category": ["Home"]}, "category"),
    "category a boolean": ({"category": True}, "category"),
    "NUL in category": ({"category": "Ho\x00me"}, "category"),
}


@pytest.mark.parametrize("change", INVALID_PRODUCTS.values(), ids=INVALID_PRODUCTS.keys())
def test_invalid_product_input_is_a_400_naming_the_field(manager, lamp, change):
    fields, invalid = change
    created = manager.post(
        "/api/catalog/products/",
        {"title": "Kettle", "price": "30.00", "category": "Home", **fields},
    )
    patched = manager.patch(f"/api/catalog/products/{lamp.pk}/", fields)

    for response in (created, patched):
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid"
        assert set(response.json()["error"]["fields"]) == {invalid}
    assert list(Product.objects.all()) == [lamp]
    lamp.refresh_from_db()
    assert (lamp.title, lamp.price, lamp.category.name) == ("Desk Lamp", Decimal("24.50"), "Home")


def test_a_product_needs_title_price_and_category(manager):
    response = manager.post("/api/catalog/products/", {})
    assert set(response.json()["error"]["fields"]) == {"title", "price", "category"}


def test_a_price_of_zero_is_allowed(manager, lamp):
    assert manager.patch(f"/api/catalog/products/{lamp.pk}/", {"price": 0}).json()["price"] == (
        "0.00"
    )


def test_a_body_that_is_not_json_is_415(manager):
    response = manager.post(
        "/api/catalog/products/", "title=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415


# --- Archiving ----------------------------------------------------------------------------------


def test_delete_archives_the_product_and_keeps_it(manager, lamp):
    response = manager.delete(f"/api/catalog/products/{lamp.pk}/")

    assert response.status_code == 200
    archived_at = response.json()["archived_at"]
    assert archived_at is not None
    lamp.refresh_from_db()
    assert lamp.archived_at is not None
    assert manager.get(f"/api/catalog/products/{lamp.pk}/").json()["archived_at"] == archived_at
    # Archiving again changes nothing: the first time stays.
    again = manager.delete(f"/api/catalog/products/{lamp.pk}/")
    assert (again.status_code, again.json()["archived_at"]) == (200, archived_at)


def test_an_archived_product_cannot_be_ordered_like_an_unknown_one(manager, lamp, catalog_factory):
    store = catalog_factory.store()
    stock = catalog_factory.stock(store, lamp, 5)
    mug = catalog_factory.product("Mug", "5.00")
    catalog_factory.stock(store, mug, 5)
    manager.delete(f"/api/catalog/products/{lamp.pk}/")

    response = manager.post(
        "/orders/",
        {
            "store": store.pk,
            "items": [
                {"product_id": mug.pk, "quantity": 1},
                {"product_id": lamp.pk, "quantity": 1},
            ],
        },
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "items": {"1": {"product_id": [f"Product {lamp.pk} does not exist."]}}
    }
    stock.refresh_from_db()
    assert stock.quantity == 5


def test_an_archived_product_leaves_the_store_listing(manager, lamp, catalog_factory):
    store = catalog_factory.store()
    mug = catalog_factory.product("Mug", "5.00")
    catalog_factory.stock(store, lamp, 5)
    catalog_factory.stock(store, mug, 3)
    url = f"/stores/{store.pk}/inventory/"
    assert [row["product_id"] for row in manager.get(url).json()["results"]] == [lamp.pk, mug.pk]

    manager.delete(f"/api/catalog/products/{lamp.pk}/")

    assert [row["product_id"] for row in manager.get(url).json()["results"]] == [mug.pk]


# --- Idempotency-Key ----------------------------------------------------------------------------


def test_a_retried_create_replays_the_first_product(manager):
    Category.objects.create(name="Home")
    body = {"title": "Kettle", "price": "30.00", "category": "Home"}
    first = manager.post("/api/catalog/products/", body, HTTP_IDEMPOTENCY_KEY="create-1")
    again = manager.post("/api/catalog/products/", body, HTTP_IDEMPOTENCY_KEY="create-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Product.objects.filter(title="Kettle").count() == 1


def test_a_key_reused_for_another_body_or_operation_is_409(manager, lamp):
    manager.patch(f"/api/catalog/products/{lamp.pk}/", {"price": "1.00"}, HTTP_IDEMPOTENCY_KEY="k")

    other_body = manager.patch(
        f"/api/catalog/products/{lamp.pk}/", {"price": "2.00"}, HTTP_IDEMPOTENCY_KEY="k"
    )
    other_operation = manager.delete(f"/api/catalog/products/{lamp.pk}/", HTTP_IDEMPOTENCY_KEY="k")

    for response in (other_body, other_operation):
        assert response.status_code == 409
        assert response.json()["error"]["message"] == (
            "This Idempotency-Key was already used with a different request."
        )
    lamp.refresh_from_db()
    assert (lamp.price, lamp.archived_at) == (Decimal("1.00"), None)


@pytest.mark.parametrize("write", WRITES)
def test_every_write_replays_under_its_key(client, lamp, write):
    perm, call, status = WRITES[write]
    client.force_authenticate(user_with(perm))
    client.credentials(HTTP_IDEMPOTENCY_KEY=f"key-{write}")

    first, again = call(client, lamp), call(client, lamp)

    assert (first.status_code, again.status_code) == (status, status)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert IdempotentRequest.objects.get(key=f"key-{write}").result == first.json()["id"]


def test_a_failed_write_leaves_its_key_free(manager, catalog_factory):
    body = {"title": "Kettle", "price": "30.00", "category": "Garden"}
    refused = manager.post("/api/catalog/products/", body, HTTP_IDEMPOTENCY_KEY="k")
    catalog_factory.category("Garden")
    created = manager.post("/api/catalog/products/", body, HTTP_IDEMPOTENCY_KEY="k")

    assert (refused.status_code, created.status_code) == (400, 201)
    assert "Idempotent-Replayed" not in created


def test_a_malformed_key_is_400(manager, lamp):
    response = manager.patch(
        f"/api/catalog/products/{lamp.pk}/", {"price": "1.00"}, HTTP_IDEMPOTENCY_KEY="x" * 256
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"Idempotency-Key"}


# --- Categories ---------------------------------------------------------------------------------


def test_categories_are_listed_publicly_by_name_in_cursor_pages(client, catalog_factory):
    for name in ("Toys", "Books", "Garden"):
        catalog_factory.category(name)

    first = client.get("/api/catalog/categories/?page_size=2").json()
    second = client.get(first["next"]).json()

    assert [row["name"] for row in first["results"]] == ["Books", "Garden"]
    assert [row["name"] for row in second["results"]] == ["Toys"]
    assert set(first["results"][0]) == {"id", "name"}


def test_a_created_category_is_listed_and_usable(manager):
    response = manager.post("/api/catalog/categories/", {"name": " Garden "})

    assert response.status_code == 201
    garden = response.json()
    assert garden == {"id": Category.objects.get(name="Garden").pk, "name": "Garden"}
    assert garden in manager.get("/api/catalog/categories/").json()["results"]
    product = manager.post(
        "/api/catalog/products/", {"title": "Rake", "price": "12.00", "category": garden["id"]}
    )
    assert product.json()["category"] == "Garden"


@pytest.mark.parametrize("name", ["Home", "hOME", "", "x" * 101, "a\x00b"])
def test_a_taken_or_invalid_category_name_is_400(manager, catalog_factory, name):
    catalog_factory.category("Home")
    response = manager.post("/api/catalog/categories/", {"name": name})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"name"}
    assert Category.objects.count() == 1


def test_a_method_the_url_does_not_serve_is_a_json_405_listing_those_it_does(manager, lamp):
    response = manager.put(f"/api/catalog/products/{lamp.pk}/", {})

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response["Allow"] == "GET, PATCH, DELETE, HEAD, OPTIONS"


def test_head_is_served_as_get_and_options_describes_the_url(client, lamp):
    url = f"/api/catalog/products/{lamp.pk}/"
    for response in (client.head(url), client.options(url), client.get(url)):
        assert response.status_code == 200
        assert response["Allow"] == "GET, PATCH, DELETE, HEAD, OPTIONS"
