import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.authtoken.models import Token

from storefront.catalog.models import Product
from storefront.seeding.services import SeedPlan, catalog_seed
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
