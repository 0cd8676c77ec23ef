"""Only the media types a view documents are parsed, spelled exactly, with no parameter but a
UTF-8 charset (and a multipart boundary): anything else is a 415 and writes nothing."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from storefront.orders.models import Order

pytestmark = pytest.mark.django_db

LOGIN = reverse("api-token")


@pytest.fixture
def order_body(catalog_factory) -> bytes:
    store = catalog_factory.store()
    product = catalog_factory.product()
    catalog_factory.stock(store, product, 100)
    return json.dumps(
        {"store": store.pk, "items": [{"product_id": product.pk, "quantity": 1}]}
    ).encode()


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8"],
)
def test_json_is_parsed(client: Client, order_body, content_type):
    response = client.post("/orders/", order_body, content_type=content_type)
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=bogus",
        "application/json; charset=latin-1",
        "application/json; charset=utf-16",
        "application/json; indent=4",
        "Application/JSON",
        "application/JSON",
        "*/*",
        "application/*",
        "application/jsonx",
        "application/merge-patch+json",
        "text/json",
    ],
)
def test_anything_else_is_a_415_and_writes_nothing(client: Client, order_body, content_type):
    # generic(): post() would encode the body in the named charset, and fails on "bogus"
    response = client.generic("POST", "/orders/", order_body, content_type=content_type)
    assert response.status_code == 415, response.content
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert not Order.objects.exists()


@pytest.fixture
def shopper(db):
    return get_user_model().objects.create_user("shopper", password="correct horse")


def test_the_login_takes_json_and_both_form_encodings(client: Client, shopper):
    credentials = {"username": "shopper", "password": "correct horse"}
    token = Token.objects.get_or_create(user=shopper)[0].key
    answers = [
        client.post(LOGIN, credentials, content_type="application/json"),
        client.post(LOGIN, credentials),  # multipart/form-data; boundary=...
        client.post(
            LOGIN,
            "username=shopper&password=correct+horse",
            content_type="application/x-www-form-urlencoded; charset=utf-8",
        ),
    ]
    assert [(answer.status_code, answer.json()) for answer in answers] == [
        (200, {"token": token})
    ] * 3


@pytest.mark.parametrize(
    "content_type",
    [
        "Application/X-WWW-Form-Urlencoded",
        "application/x-www-form-urlencoded; charset=bogus",
        "application/*",
        "*/*",
    ],
)
def test_the_login_refuses_other_spellings_of_a_form(client: Client, shopper, content_type):
    response = client.generic(
        "POST", LOGIN, "username=shopper&password=correct+horse", content_type=content_type
    )
    assert response.status_code == 415, response.content
    assert response.json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize("declared", ["12abc", "-1", "\u0661", "9" * 5000])
def test_a_content_length_that_is_no_number_of_bytes_is_a_400(client: Client, declared):
    response = client.generic(
        "POST", "/orders/", b"{}", content_type="application/json", CONTENT_LENGTH=declared
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "bad_request"
