from datetime import datetime

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token

from storefront.orders.models import IdempotencyKey, Order
from storefront.orders.tests.conftest import stock_of

pytestmark = pytest.mark.django_db


def body(shop, *lines, **extra):
    items = [{"product_id": product.pk, "quantity": quantity} for product, quantity in lines]
    return {"store": shop.store.pk, "items": items, **extra}


def test_confirmed_order_is_201_with_lines_and_total(api_client, shop):
    response = api_client.post(
        "/orders/", body(shop, (shop.laptop, 1), (shop.mouse, 2), email="a@example.com")
    )

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "CONFIRMED"
    assert data["store"] == shop.store.pk
    assert data["email"] == "a@example.com"
    assert data["items"] == [
        {
            "product_id": shop.laptop.pk,
            "title": "Laptop",
            "quantity": 1,
            "unit_price": "999.99",
            "line_total": "999.99",
        },
        {
            "product_id": shop.mouse.pk,
            "title": "Mouse",
            "quantity": 2,
            "unit_price": "19.50",
            "line_total": "39.00",
        },
    ]
    assert data["total"] == "1038.99"
    assert data["shortfalls"] == []
    assert data["created_at"]
    assert stock_of(shop.store, shop.laptop) == 4


@pytest.mark.parametrize("mice", [3, 1_000], ids=["confirmed", "rejected"])
def test_placing_a_three_line_order_is_one_database_call(api_client, shop, mice):
    cable = shop.cable
    shop.store.inventory.create(product=cable, quantity=10)
    lines = body(shop, (shop.laptop, 1), (shop.mouse, mice), (cable, 2))

    with CaptureQueriesContext(connection) as queries:
        response = api_client.post("/orders/", lines)

    assert response.status_code == 201
    # orders_place, and nothing else: the answer is built from what it returned.
    [statement] = [q["sql"] for q in queries.captured_queries]
    assert statement.startswith("SELECT * FROM orders_place(")


@pytest.mark.parametrize("mice", [2, 1_000], ids=["confirmed", "rejected"])
def test_the_placement_answer_is_the_stored_order(api_client, shop, mice):
    placed = api_client.post("/orders/", body(shop, (shop.mouse, mice), (shop.laptop, 1))).json()

    api_client.force_authenticate(get_user_model().objects.create_superuser("root"))
    assert api_client.get(f"/orders/{placed['id']}/").json() == placed


def test_an_order_posted_without_the_trailing_slash_is_placed(api_client, shop):
    response = api_client.post("/orders", body(shop, (shop.laptop, 1)))

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "CONFIRMED"
    assert stock_of(shop.store, shop.laptop) == 4


def test_a_cancel_posted_without_the_trailing_slash_is_done(api_client, shop):
    order_id = api_client.post("/orders/", body(shop, (shop.laptop, 1))).json()["id"]
    api_client.force_authenticate(get_user_model().objects.create_superuser("root"))

    response = api_client.post(f"/orders/{order_id}/cancel")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "CANCELLED"


def test_a_write_to_an_unknown_path_is_still_a_json_404(api_client):
    response = api_client.post("/nowhere", {})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_rejected_order_is_201_and_says_what_fell_short(api_client, shop):
    response = api_client.post("/orders/", body(shop, (shop.laptop, 1), (shop.mouse, 1_000)))

    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "REJECTED"
    assert data["shortfalls"] == [
        {"product_id": shop.mouse.pk, "requested": 1000, "available": 10, "missing": 990}
    ]
    assert stock_of(shop.store, shop.laptop) == 5
    assert stock_of(shop.store, shop.mouse) == 10


def test_authenticated_customer_is_recorded_as_the_buyer(api_client, shop):
    user = get_user_model().objects.create_user("buyer", email="buyer@example.com")
    api_client.force_authenticate(user)
    response = api_client.post("/orders/", body(shop, (shop.laptop, 1)))
    assert Order.objects.get(pk=response.json()["id"]).placed_by == user


def laptop_line(shop, **overrides):
    return {"store": shop.store.pk, "items": [{"product_id": shop.laptop.pk, **overrides}]}


BAD_BODIES = {
    "no items field": lambda shop: {"store": shop.store.pk},
    "no store field": lambda shop: {"items": [{"product_id": shop.laptop.pk, "quantity": 1}]},
    "empty items": lambda shop: {"store": shop.store.pk, "items": []},
    "items not a list": lambda shop: {"store": shop.store.pk, "items": {"product_id": 1}},
    "body is a list": lambda shop: [laptop_line(shop, quantity=1)],
    "missing quantity": lambda shop: laptop_line(shop),
    "missing product": lambda shop: {"store": shop.store.pk, "items": [{"quantity": 1}]},
    "zero quantity": lambda shop: laptop_line(shop, quantity=0),
    "negative quantity": lambda shop: laptop_line(shop, quantity=-3),
    "fractional quantity": lambda shop: laptop_line(shop, quantity=1.5),
    "float quantity": lambda shop: laptop_line(shop, quantity=2.0),
    "string quantity": lambda shop: laptop_line(shop, quantity="2"),
    "boolean quantity": lambda shop: laptop_line(shop, quantity=True),
    "null quantity": lambda shop: laptop_line(shop, quantity=None),
    "huge quantity": lambda shop: laptop_line(shop, quantity=10**30),
    "above the quantity cap": lambda shop: laptop_line(
        shop, quantity=settings.ORDER_MAX_QUANTITY + 1
    ),
    "too many lines": lambda shop: {
        "store": shop.store.pk,
        "items": [{"product_id": shop.laptop.pk, "quantity": 1}] * (settings.ORDER_MAX_LINES + 1),
    },
    "huge product id": lambda shop: {
        "store": shop.store.pk,
        "items": [{"product_id": 2**70, "quantity": 1}],
    },
    "unknown product": lambda shop: {
        "store": shop.store.pk,
        "items": [{"product_id": shop.cable.pk + 1000, "quantity": 1}],
    },
    "store not an integer": lambda shop: {**laptop_line(shop, quantity=1), "store": "main"},
    "bad email": lambda shop: {**laptop_line(shop, quantity=1), "email": "not-an-address"},
}


@pytest.mark.parametrize("case", BAD_BODIES)
def test_bad_input_is_400_with_field_errors_and_writes_nothing(api_client, shop, case):
    response = api_client.post(
        "/orders/", BAD_BODIES[case](shop), format="json", HTTP_IDEMPOTENCY_KEY=f"key-{case}"
    )

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"]
    assert not Order.objects.exists()
    assert not IdempotencyKey.objects.exists()
    assert stock_of(shop.store, shop.laptop) == 5


def test_unknown_product_error_points_at_the_line(api_client, shop):
    response = api_client.post(
        "/orders/", body(shop, (shop.laptop, 1)) | {"items": [{"product_id": 9999, "quantity": 1}]}
    )
    assert response.json()["error"]["fields"] == {
        "items": {"0": {"product_id": ["Product 9999 does not exist."]}}
    }


def test_a_bad_line_error_names_the_line_and_the_field(api_client, shop):
    good = {"product_id": shop.laptop.pk, "quantity": 1}
    lines = [good, {"product_id": shop.laptop.pk, "quantity": "2"}, "laptop", {"quantity": 1}]
    response = api_client.post("/orders/", {"store": shop.store.pk, "items": lines}, format="json")
    assert response.json()["error"]["fields"] == {
        "items": {
            "1": {"quantity": ["A valid integer is required."]},
            "2": {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]},
            "3": {"product_id": ["This field is required."]},
        }
    }


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b'{"store": 1, "items": [}', b"null", b"\xff\xfe"],
    ids=["empty", "truncated", "broken", "null", "not utf-8"],
)
def test_malformed_json_is_400_and_writes_nothing(api_client, shop, raw):
    response = api_client.generic("POST", "/orders/", raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "error" in response.json()
    assert not Order.objects.exists()


def test_wrong_content_type_is_rejected_without_a_500(api_client, shop):
    response = api_client.generic("POST", "/orders/", b"store=1", content_type="text/plain")
    assert response.status_code == 415
    assert not Order.objects.exists()


def test_unknown_store_is_404_and_writes_nothing(api_client, shop):
    response = api_client.post(
        "/orders/", body(shop, (shop.laptop, 1)) | {"store": shop.store.pk + 1000}
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not Order.objects.exists()


def test_idempotent_retry_replays_the_first_response(api_client, shop):
    first = api_client.post("/orders/", body(shop, (shop.laptop, 2)), HTTP_IDEMPOTENCY_KEY="k-1")
    again = api_client.post("/orders/", body(shop, (shop.laptop, 2)), HTTP_IDEMPOTENCY_KEY="k-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Order.objects.count() == 1
    assert stock_of(shop.store, shop.laptop) == 3


def test_idempotency_key_reused_for_another_body_is_409(api_client, shop):
    api_client.post("/orders/", body(shop, (shop.laptop, 2)), HTTP_IDEMPOTENCY_KEY="k-1")
    response = api_client.post("/orders/", body(shop, (shop.laptop, 3)), HTTP_IDEMPOTENCY_KEY="k-1")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert Order.objects.count() == 1
    assert stock_of(shop.store, shop.laptop) == 3


def test_a_key_claimed_by_another_user_does_not_block_its_owner(api_client, shop):
    """An attacker who learns a user's key and uses it first gets an order of his own: the
    owner's real order with that key is placed, not answered 409 (keys are per user)."""
    users = get_user_model().objects
    attacker, owner = users.create_user("mallory"), users.create_user("alice")

    api_client.force_authenticate(attacker)
    claimed = api_client.post("/orders/", body(shop, (shop.laptop, 99)), HTTP_IDEMPOTENCY_KEY="k")
    api_client.force_authenticate(owner)
    placed = api_client.post("/orders/", body(shop, (shop.laptop, 1)), HTTP_IDEMPOTENCY_KEY="k")
    replayed = api_client.post("/orders/", body(shop, (shop.laptop, 1)), HTTP_IDEMPOTENCY_KEY="k")

    assert claimed.json()["status"] == "REJECTED"
    assert placed.status_code == 201 and placed.json()["status"] == "CONFIRMED"
    assert "Idempotent-Replayed" not in placed.headers
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json()["id"] == placed.json()["id"]
    assert stock_of(shop.store, shop.laptop) == 4
    assert set(IdempotencyKey.objects.values_list("owner__username", "key")) == {
        ("mallory", "k"),
        ("alice", "k"),
    }


def test_anonymous_clients_share_one_key_namespace(api_client, shop):
    api_client.post("/orders/", body(shop, (shop.laptop, 1)), HTTP_IDEMPOTENCY_KEY="shared")
    api_client.force_authenticate(get_user_model().objects.create_user("bob"))
    own = api_client.post("/orders/", body(shop, (shop.laptop, 1)), HTTP_IDEMPOTENCY_KEY="shared")
    api_client.force_authenticate(None)
    again = api_client.post("/orders/", body(shop, (shop.laptop, 2)), HTTP_IDEMPOTENCY_KEY="shared")

    assert "Idempotent-Replayed" not in own.headers  # the user's namespace is his own
    assert again.status_code == 409  # another anonymous body under the anonymous key
    assert stock_of(shop.store, shop.laptop) == 3


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9"], ids=["empty", "long", "non-ascii"])
def test_invalid_idempotency_key_is_400(api_client, shop, key):
    response = api_client.post("/orders/", body(shop, (shop.laptop, 1)), HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["fields"]
    assert not Order.objects.exists()


@pytest.fixture
def staff(shop):
    user = get_user_model().objects.create_user("clerk", password="pw")
    shop.store.staff.add(user)
    return user


def token_client(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.default_format = "json"
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def test_staff_cancels_with_a_token_and_stock_returns(api_client, shop, staff):
    order_id = api_client.post("/orders/", body(shop, (shop.laptop, 2))).json()["id"]
    client = token_client(staff)

    response = client.post(f"/orders/{order_id}/cancel/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "CANCELLED"
    assert response.json()["cancelled_at"]
    assert stock_of(shop.store, shop.laptop) == 5
    again = client.post(f"/orders/{order_id}/cancel/")
    assert again.status_code == 409
    assert stock_of(shop.store, shop.laptop) == 5


def test_cancel_needs_credentials_and_the_right_store(api_client, shop, catalog_factory):
    order_id = api_client.post("/orders/", body(shop, (shop.laptop, 2))).json()["id"]
    assert api_client.post(f"/orders/{order_id}/cancel/").status_code == 401

    other = get_user_model().objects.create_user("other-clerk")
    catalog_factory.store("Elsewhere").staff.add(other)
    # Another store's order is as unknown to its staff as a missing one: ids cannot be probed.
    refused = token_client(other).post(f"/orders/{order_id}/cancel/")
    missing = token_client(other).post("/orders/987654/cancel/")
    assert (refused.status_code, refused.json()) == (404, missing.json())
    assert missing.status_code == 404
    assert stock_of(shop.store, shop.laptop) == 3


def test_its_customer_sees_the_order_but_may_not_cancel_it(api_client, shop):
    buyer = get_user_model().objects.create_user("buyer")
    api_client.force_authenticate(buyer)
    order_id = api_client.post("/orders/", body(shop, (shop.laptop, 2))).json()["id"]

    refused = api_client.post(f"/orders/{order_id}/cancel/")

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert stock_of(shop.store, shop.laptop) == 3


def test_rejected_order_cancel_is_409(api_client, shop, staff):
    order_id = api_client.post("/orders/", body(shop, (shop.laptop, 99))).json()["id"]
    assert token_client(staff).post(f"/orders/{order_id}/cancel/").status_code == 409


def test_order_detail_for_its_buyer_and_the_store_staff_only(api_client, shop, staff):
    buyer = get_user_model().objects.create_user("buyer")
    stranger = get_user_model().objects.create_user("stranger")
    api_client.force_authenticate(buyer)
    order_id = api_client.post("/orders/", body(shop, (shop.laptop, 1))).json()["id"]

    assert api_client.get(f"/orders/{order_id}/").json()["id"] == order_id
    assert token_client(staff).get(f"/orders/{order_id}/").status_code == 200
    # Someone else's order answers exactly as a missing one: ids cannot be probed.
    hidden = token_client(stranger).get(f"/orders/{order_id}/")
    missing = token_client(stranger).get("/orders/987654/")
    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())
    assert missing.status_code == 404
    api_client.force_authenticate(None)
    assert api_client.get(f"/orders/{order_id}/").status_code == 401


def test_created_at_is_recent(api_client, shop):
    data = api_client.post("/orders/", body(shop, (shop.laptop, 1))).json()
    created = datetime.fromisoformat(data["created_at"].replace("Z", "+00:00"))
    assert abs((timezone.now() - created).total_seconds()) < 3600
