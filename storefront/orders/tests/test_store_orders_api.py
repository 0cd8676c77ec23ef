from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from storefront.orders.models import Order
from storefront.orders.selectors import OrderDetail
from storefront.orders.services import OrderLine, order_place

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(shop):
    user = get_user_model().objects.create_user("clerk", password="pw")
    shop.store.staff.add(user)
    return user


def place(shop, laptops: int = 1, mice: int = 2) -> OrderDetail:
    items = [OrderLine(shop.laptop.pk, laptops), OrderLine(shop.mouse.pk, mice)]
    return order_place(store_id=shop.store.pk, items=items).order


def url(shop) -> str:
    return f"/stores/{shop.store.pk}/orders/"


def test_without_credentials_is_401(api_client, shop):
    response = api_client.get(url(shop))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_staff_of_another_store_is_403(api_client, shop, catalog_factory):
    other = get_user_model().objects.create_user("other")
    catalog_factory.store("Elsewhere").staff.add(other)
    api_client.force_authenticate(other)
    assert api_client.get(url(shop)).status_code == 403


def test_unknown_store_is_404(api_client, clerk):
    api_client.force_authenticate(clerk)
    assert api_client.get("/stores/987654/orders/").status_code == 404


def test_token_authentication_works(api_client, shop, clerk):
    from rest_framework.authtoken.models import Token

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=clerk).key}")
    assert api_client.get(url(shop)).status_code == 200


def test_superuser_may_list_any_store(api_client, shop):
    api_client.force_authenticate(get_user_model().objects.create_superuser("root"))
    assert api_client.get(url(shop)).status_code == 200


def test_orders_newest_first_with_totals(api_client, shop, clerk, catalog_factory):
    older = place(shop, laptops=1, mice=2)
    rejected = place(shop, laptops=50, mice=1)
    newest = place(shop, laptops=2, mice=1)
    other_store = catalog_factory.store("Elsewhere")
    catalog_factory.stock(other_store, shop.laptop, 1)
    order_place(store_id=other_store.pk, items=[OrderLine(shop.laptop.pk, 1)])
    Order.objects.filter(pk=older.id).update(created_at=timezone.now() - timedelta(hours=1))
    api_client.force_authenticate(clerk)

    data = api_client.get(url(shop)).json()

    assert (data["page_size"], data["next"], data["previous"]) == (20, None, None)
    assert [row["id"] for row in data["results"]] == [newest.id, rejected.id, older.id]
    first = data["results"][0]
    assert set(first) == {"id", "status", "created_at", "total_items", "total_amount"}
    assert (first["status"], first["total_items"], first["total_amount"]) == (
        "CONFIRMED",
        3,
        "2019.48",
    )
    # A rejected order totals what was asked for, not what the store had.
    second = data["results"][1]
    assert (second["status"], second["total_items"], second["total_amount"]) == (
        "REJECTED",
        51,
        "50019.00",
    )


def test_same_timestamp_is_ordered_by_id_descending(api_client, shop, clerk):
    orders = [place(shop, laptops=1, mice=1) for _ in range(3)]
    Order.objects.update(created_at=timezone.now())
    api_client.force_authenticate(clerk)

    ids = [row["id"] for row in api_client.get(url(shop)).json()["results"]]

    assert ids == sorted((o.id for o in orders), reverse=True)


def test_cursor_pages_walk_every_order_once_newest_first(api_client, shop, clerk):
    orders = [place(shop, laptops=1, mice=1) for _ in range(5)]
    # Two orders share a timestamp: the cursor must still neither skip nor repeat one.
    Order.objects.filter(pk__in=[orders[1].id, orders[2].id]).update(created_at=timezone.now())
    api_client.force_authenticate(clerk)
    expected = list(
        Order.objects.filter(store=shop.store)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)
    )

    seen, pages, link = [], [], f"{url(shop)}?page_size=2"
    while link:
        data = api_client.get(link).json()
        assert data["page_size"] == 2
        pages.append(data)
        seen += [row["id"] for row in data["results"]]
        link = data["next"]

    assert seen == expected
    assert [len(page["results"]) for page in pages] == [2, 2, 1]
    back = api_client.get(pages[-1]["previous"]).json()
    assert [row["id"] for row in back["results"]] == expected[2:4]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"cursor": "not-a-cursor"}, "cursor"), ({"page_size": "0"}, "page_size"),
     ({"page_size": "abc"}, "page_size")],
)  # fmt: skip
def test_invalid_paging_parameters_are_400(api_client, shop, clerk, params, field):
    api_client.force_authenticate(clerk)
    response = api_client.get(url(shop), params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_number_of_queries_does_not_grow_with_the_page(api_client, shop, clerk):
    shop.store.inventory.update(quantity=10_000)
    for _ in range(30):
        place(shop, laptops=1, mice=3)
    api_client.force_authenticate(clerk)

    counts = {}
    for page_size in (1, 30):
        with CaptureQueriesContext(connection) as queries:
            response = api_client.get(url(shop), {"page_size": page_size})
        assert len(response.json()["results"]) == page_size
        counts[page_size] = len(queries)

    assert counts[1] == counts[30]
    assert counts[30] <= 3  # store exists, staff check, page
