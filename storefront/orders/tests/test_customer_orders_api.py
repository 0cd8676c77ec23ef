"""GET /orders/: the authenticated customer's own orders, newest first, by cursor."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from storefront.orders.models import Order
from storefront.orders.services import OrderLine, order_place

pytestmark = pytest.mark.django_db


def place(shop, user, laptops: int = 1):
    items = [OrderLine(shop.laptop.pk, laptops)]
    return order_place(store_id=shop.store.pk, items=items, placed_by=user).order


def test_without_credentials_is_401(api_client):
    response = api_client.get("/orders/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_customer_sees_only_their_own_orders_newest_first(api_client, shop):
    users = get_user_model().objects
    alice, bob = users.create_user("alice"), users.create_superuser("bob")
    older = place(shop, alice)
    rejected = place(shop, alice, laptops=50)
    place(shop, bob)
    place(shop, None)  # anonymous: nobody's
    Order.objects.filter(pk=older.id).update(created_at=timezone.now() - timedelta(hours=1))
    api_client.force_authenticate(alice)

    data = api_client.get("/orders/").json()

    assert (data["page_size"], data["next"], data["previous"]) == (20, None, None)
    assert [row["id"] for row in data["results"]] == [rejected.id, older.id]
    assert data["results"][0] == {
        "id": rejected.id,
        "store": shop.store.pk,
        "status": "REJECTED",
        "created_at": data["results"][0]["created_at"],
        "total_items": 50,
        "total_amount": "49999.50",
    }
    # A superuser is a customer like any other here: his own orders only.
    api_client.force_authenticate(bob)
    assert len(api_client.get("/orders/").json()["results"]) == 1


def test_cursor_pages_walk_every_order_once_and_cost_alike(api_client, shop):
    alice = get_user_model().objects.create_user("alice")
    placed = [place(shop, alice).id for _ in range(5)]
    api_client.force_authenticate(alice)

    seen, url, queries = [], "/orders/?page_size=2", []
    while url:
        with CaptureQueriesContext(connection) as captured:
            page = api_client.get(url).json()
        queries.append(len(captured))
        seen += [row["id"] for row in page["results"]]
        url = page["next"]

    assert seen == placed[::-1]
    assert len(set(queries)) == 1


def test_the_listing_reads_the_customer_index():
    from storefront.orders.selectors import order_list_for_customer

    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        sql, params = order_list_for_customer(user_id=1)[:20].query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "order_customer_newest_idx" in plan
    assert "Sort" not in plan
