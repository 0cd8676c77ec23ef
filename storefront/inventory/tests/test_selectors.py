import pytest
from django.db import connection
from django.db.models.functions import Lower

from storefront.catalog.models import Product
from storefront.inventory.models import Inventory
from storefront.inventory.selectors import inventory_list

pytestmark = pytest.mark.django_db

TITLES = ["mouse", "Zebra Case", "Laptop", "laptop", "LAPTOP", "Äpfel", "apple", "Apple", "10 Pens"]


@pytest.fixture
def store(catalog_factory):
    store = catalog_factory.store("Main Street")
    for title in TITLES:
        catalog_factory.stock(store, catalog_factory.product(title), 1)
    return store


def listed_ids(store) -> list[int]:
    return list(inventory_list(store_id=store.pk).values_list("product_id", flat=True))


def test_order_is_lower_title_then_product_id_as_before(store):
    # The order the listing had when it sorted by lower(product title) through the join.
    expected = Inventory.objects.filter(store=store).order_by(Lower("product__title"), "product_id")
    assert listed_ids(store) == [row.product_id for row in expected]


def test_the_key_follows_a_title_edit(store):
    zebra = Product.objects.get(title="Zebra Case")
    zebra.title = "Aardvark Case"
    zebra.save()
    assert listed_ids(store)[:2] == [
        Product.objects.get(title="10 Pens").pk,
        zebra.pk,
    ]
    assert Inventory.objects.get(product=zebra).product_title_key == "aardvark case"


def test_a_queryset_update_of_titles_moves_rows_too(store):
    Product.objects.filter(title="mouse").update(title="AAA Mouse")
    assert Inventory.objects.get(product__title="AAA Mouse").product_title_key == "aaa mouse"


def test_rows_written_without_the_orm_get_their_key(store, catalog_factory):
    product = catalog_factory.product("Kettle")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO stores_inventory (store_id, product_id, quantity, updated_at, "
            "product_title_key) VALUES (%s, %s, 3, CURRENT_TIMESTAMP, 'wrong')",
            [store.pk, product.pk],
        )
    assert Inventory.objects.get(product=product).product_title_key == "kettle"


def test_a_stale_key_written_back_by_save_is_corrected(store):
    row = Inventory.objects.get(product__title="mouse")
    row.product_title_key = "stale"
    row.quantity = 4
    row.save()
    row.refresh_from_db()
    assert (row.product_title_key, row.quantity) == ("mouse", 4)


def test_cursor_pages_cover_every_row_once_across_equal_titles(api_client, store):
    seen = []
    url = f"/stores/{store.pk}/inventory/?page_size=2"
    while url:
        body = api_client.get(url).json()
        seen += [row["product_id"] for row in body["results"]]
        url = body["next"]
    assert seen == listed_ids(store)


def test_a_store_without_stock_lists_an_empty_first_page(api_client, catalog_factory):
    empty = catalog_factory.store("Empty")
    body = api_client.get(f"/stores/{empty.pk}/inventory/").json()
    assert (body["next"], body["previous"], body["results"]) == (None, None, [])
