import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.authtoken.models import Token

LOGIN = reverse("api-token")


@pytest.fixture
def shopper(db):
    return get_user_model().objects.create_user("shopper", password="correct horse")


def test_login_returns_the_users_token_every_time(api_client, shopper):
    credentials = {"username": "shopper", "password": "correct horse"}
    first = api_client.post(LOGIN, credentials)
    assert first.status_code == 200
    assert first.json() == {"token": Token.objects.get(user=shopper).key}
    assert api_client.post(LOGIN, credentials).json() == first.json()


def test_wrong_password_is_a_400_in_the_error_shape(api_client, shopper):
    response = api_client.post(LOGIN, {"username": "shopper", "password": "nope"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert not Token.objects.exists()
