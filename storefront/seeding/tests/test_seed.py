import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from rest_framework.authtoken.models import Token

from storefront.catalog.models import Product
from storefront.seeding.services import (
    DEV_ADMIN_PASSWORD,
    DEV_ADMIN_USERNAME,
    DEV_STAFF_PASSWORD,
    STAFF_USERNAME,
    SeedPlan,
    catalog_seed,
)
from storefront.stores.models import Store

SMALL = ["--stores", "3", "--products", "200", "--inventory-per-store", "50", "--no-progress"]


def seeded_snapshot() -> tuple[list, list]:
    products = list(Product.objects.order_by("id").values_list("title", "price", "category__name"))
    # Through the stores' `inventory` relation: the seeding module alone names the stock model.
    stock = list(
        Store.objects.filter(inventory__isnull=False)
        .order_by("name", "inventory__product__title", "inventory__product_id")
        .values_list("name", "inventory__product__title", "inventory__quantity")
    )
    return products, stock


@pytest.mark.django_db
def test_seed_fills_every_table_and_prints_the_staff_token(capsys):
    call_command("seed_data", *SMALL)

    assert Store.objects.count() == 3
    assert Product.objects.count() == 200
    # Store 1, the flagship, carries the first 1,000 products (here all 200); the others 50 each.
    assert Store.objects.get(name="Store 1").inventory.count() == 200
    assert Store.objects.filter(inventory__isnull=False).count() == 200 + 2 * 50  # stock rows
    assert Product.objects.filter(title__icontains="pro").exists()  # "q=Pro" finds things
    token = Token.objects.get(user__staffed_stores__name="Store 1")
    assert token.key in capsys.readouterr().out


@pytest.mark.django_db
def test_seed_is_deterministic_for_a_seed_and_reset_restarts_ids():
    call_command("seed_data", *SMALL, "--seed", "7")
    first = seeded_snapshot()

    call_command("seed_data", *SMALL, "--seed", "7", "--reset")

    assert seeded_snapshot() == first
    # Ids restart too, so documented examples such as product_id=589 stay valid after a reseed.
    assert Product.objects.order_by("id").values_list("id", flat=True).first() == 1
    call_command("seed_data", *SMALL, "--seed", "8", "--reset")
    assert seeded_snapshot() != first


@pytest.mark.django_db
def test_seed_without_reset_leaves_existing_data_alone(capsys):
    call_command("seed_data", *SMALL)
    before = seeded_snapshot()

    call_command("seed_data", "--products", "500", "--no-progress")

    assert seeded_snapshot() == before
    assert "nothing to do" in capsys.readouterr().out


@pytest.mark.django_db
def test_seed_prints_the_staff_token_every_time_with_the_given_base_url(capsys):
    call_command("seed_data", *SMALL)
    token = Token.objects.get(user__staffed_stores__name="Store 1").key
    capsys.readouterr()

    call_command("seed_data", *SMALL, "--base-url", "http://127.0.0.1:8123")

    assert f'Token {token}" http://127.0.0.1:8123/stores/1/orders/' in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_reseed_invalidates_cached_search_results(api_client):
    def first_page() -> list[tuple[int, str]]:
        results = api_client.get("/api/search/products/?ordering=title").json()["results"]
        return [(row["id"], row["title"]) for row in results]

    call_command("seed_data", *SMALL, "--seed", "1")
    first_page()  # now cached
    call_command("seed_data", *SMALL, "--seed", "2", "--reset")

    expected = list(Product.objects.order_by("title", "id").values_list("id", "title")[:20])
    assert first_page() == expected


# --- Development accounts (`make run` passes --dev-accounts) ------------------------------------


def user(username: str):
    return get_user_model().objects.get(username=username)


@pytest.mark.django_db
def test_the_production_seed_sets_no_password_and_makes_no_admin():
    call_command("seed_data", *SMALL)

    assert not user(STAFF_USERNAME).has_usable_password()
    assert not get_user_model().objects.filter(is_superuser=True).exists()


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_dev_accounts_are_refused_with_debug_off():
    with pytest.raises(CommandError, match="development only"):
        call_command("seed_data", *SMALL, "--dev-accounts")

    assert not Product.objects.exists()
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_dev_accounts_are_created_then_repaired_on_every_run(capsys):
    call_command("seed_data", *SMALL, "--dev-accounts", "--base-url", "http://127.0.0.1:8123")

    admin = user(DEV_ADMIN_USERNAME)
    assert admin.is_superuser and admin.is_staff and admin.check_password(DEV_ADMIN_PASSWORD)
    assert user(STAFF_USERNAME).check_password(DEV_STAFF_PASSWORD)
    token = Token.objects.get(user__username=STAFF_USERNAME).key
    assert capsys.readouterr().out.endswith(
        "Development accounts (make run only; production seeds no passwords):\n"
        "  admin          admin / admin-dev-password        http://127.0.0.1:8123/admin/\n"
        "  store 1 staff  store1-manager / store1-dev-password\n"
        f"API token of store1-manager: {token}\n"
        f'  curl -H "Authorization: Token {token}" http://127.0.0.1:8123/stores/1/orders/\n'
        f'  curl -H "Authorization: Token {token}" -H "Content-Type: application/json" '
        """-d '{"product_id": 589, "delta": 25, "reason": "restock"}' """
        "http://127.0.0.1:8123/stores/1/inventory/adjustments/\n"
    )

    admin.is_superuser = False
    admin.set_password("changed")
    admin.save()
    staff = user(STAFF_USERNAME)
    staff.set_unusable_password()
    staff.save()
    call_command("seed_data", *SMALL, "--dev-accounts")  # data exists: only the accounts

    admin = user(DEV_ADMIN_USERNAME)
    assert admin.is_superuser and admin.check_password(DEV_ADMIN_PASSWORD)
    assert user(STAFF_USERNAME).check_password(DEV_STAFF_PASSWORD)
    assert Token.objects.get(user__username=STAFF_USERNAME).key == token
    # A right password is not set again: its hash, and the admin's sessions, stay.
    call_command("seed_data", *SMALL, "--dev-accounts")
    assert user(DEV_ADMIN_USERNAME).password == admin.password


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_the_admin_login_page_accepts_the_dev_admin(client):
    call_command("seed_data", *SMALL, "--dev-accounts")

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": DEV_ADMIN_USERNAME, "password": DEV_ADMIN_PASSWORD},
    )

    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_the_token_logins_documented_example_logs_the_dev_staff_user_in(api_client):
    call_command("seed_data", *SMALL, "--dev-accounts")
    schema = api_client.get("/api/schema/?format=json").json()
    examples = schema["paths"]["/api/auth/token/"]["post"]["requestBody"]["content"][
        "application/json"
    ]["examples"]

    example = examples["Login"]["value"]

    response = api_client.post("/api/auth/token/", example)

    assert example == {"username": STAFF_USERNAME, "password": DEV_STAFF_PASSWORD}
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user__username=STAFF_USERNAME).key}


def index_definitions() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()")
        return {definition for (definition,) in cursor.fetchall()}


@pytest.mark.django_db
def test_seed_loads_without_secondary_indexes_then_builds_every_one_again():
    before = index_definitions()
    during: list[set[str]] = []

    catalog_seed(
        plan=SeedPlan(stores=2, products=300, inventory_per_store=50, seed=1),
        progress=lambda rows: during.append(index_definitions()),
    )

    trigram = {definition for definition in before if "gin_trgm_ops" in definition}
    unique = {definition for definition in before if definition.startswith("CREATE UNIQUE")}
    assert trigram
    assert unique
    assert during
    # While rows stream in: no trigram index to maintain, every unique index kept.
    assert all(not trigram & seen and unique <= seen for seen in during)
    assert index_definitions() == before
