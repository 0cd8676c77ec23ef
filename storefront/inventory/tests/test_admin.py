import pytest

from storefront.inventory.models import Inventory

pytestmark = pytest.mark.django_db


def test_an_edit_in_the_admin_sets_the_quantity(admin_client, catalog_factory):
    store = catalog_factory.store()
    stock = catalog_factory.stock(store, catalog_factory.product(), 5)

    response = admin_client.post(
        f"/admin/inventory/inventory/{stock.pk}/change/", {"quantity": "12"}
    )

    assert response.status_code == 302, response.content
    stock.refresh_from_db()
    assert (stock.store_id, stock.quantity) == (store.pk, 12)


def test_a_row_added_in_the_admin_is_created(admin_client, catalog_factory):
    store, product = catalog_factory.store(), catalog_factory.product()

    response = admin_client.post(
        "/admin/inventory/inventory/add/",
        {"store": store.pk, "product": product.pk, "quantity": "3"},
    )

    assert response.status_code == 302, response.content
    assert Inventory.objects.get(store=store, product=product).quantity == 3


def test_stock_rows_cannot_be_deleted_in_the_admin(admin_client, catalog_factory):
    stock = catalog_factory.stock(catalog_factory.store(), catalog_factory.product(), 5)
    response = admin_client.post(f"/admin/inventory/inventory/{stock.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Inventory.objects.filter(pk=stock.pk).exists()
