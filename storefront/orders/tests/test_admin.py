import pytest

from storefront.orders.models import Order
from storefront.orders.services import OrderLine, order_place
from storefront.orders.tests.conftest import stock_of

pytestmark = pytest.mark.django_db


def test_orders_are_read_only_in_the_admin(admin_client, shop):
    order = order_place(store_id=shop.store.pk, items=[OrderLine(shop.laptop.pk, 1)]).order

    page = admin_client.get(f"/admin/orders/order/{order.id}/change/")
    posted = admin_client.post(
        f"/admin/orders/order/{order.id}/change/", {"status": "REJECTED", "email": "x@y.z"}
    )

    assert page.status_code == 200
    assert b'name="status"' not in page.content  # shown, not editable
    assert posted.status_code == 403
    assert Order.objects.get(pk=order.id).status == Order.Status.CONFIRMED
    assert admin_client.get("/admin/orders/order/add/").status_code == 403


def test_the_cancel_action_returns_the_stock_once(admin_client, shop):
    confirmed = order_place(store_id=shop.store.pk, items=[OrderLine(shop.laptop.pk, 2)]).order
    rejected = order_place(store_id=shop.store.pk, items=[OrderLine(shop.laptop.pk, 99)]).order
    assert stock_of(shop.store, shop.laptop) == 3

    response = admin_client.post(
        "/admin/orders/order/",
        {"action": "cancel_orders", "_selected_action": [confirmed.id, rejected.id]},
        follow=True,
    )

    assert response.status_code == 200
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {confirmed.id: "CANCELLED", rejected.id: "REJECTED"}
    assert stock_of(shop.store, shop.laptop) == 5
    messages = [str(message) for message in response.context["messages"]]
    assert f"Order {confirmed.id} cancelled." in messages
    assert any(m.startswith(f"Order {rejected.id}: Only CONFIRMED") for m in messages)
