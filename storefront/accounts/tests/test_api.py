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


@pytest.fixture
def limits(settings):
    settings.LOGIN_CLIENT_RATE_LIMIT = 6
    settings.LOGIN_FAILURE_LIMIT = 3


def login(client, password: str, username: str = "shopper", ip: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_failures_for_one_username_are_throttled_before_any_password_check(
    api_client, shopper, limits, django_assert_num_queries
):
    statuses = [login(api_client, "nope", ip=f"10.0.0.{n}").status_code for n in range(3)]
    with django_assert_num_queries(0):  # refused before the user is even looked up
        throttled = login(api_client, "correct horse", ip="10.0.0.9")

    assert statuses == [400, 400, 400]
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "throttled"
    assert 0 < int(throttled["Retry-After"]) <= 300


def test_the_owners_correct_logins_do_not_count_as_failures(api_client, shopper, limits):
    for _ in range(5):
        assert login(api_client, "correct horse").status_code == 200
    assert login(api_client, "nope").status_code == 400


def test_another_username_is_not_held_back(api_client, shopper, limits):
    get_user_model().objects.create_user("other", password="pw-other")
    for _ in range(3):
        login(api_client, "nope", ip="10.0.0.2")
    assert login(api_client, "pw-other", username="other", ip="10.0.0.3").status_code == 200
    assert login(api_client, "nope", username="SHOPPER", ip="10.0.0.3").status_code == 429


def test_one_client_is_throttled_whatever_the_usernames(api_client, shopper, limits):
    statuses = [login(api_client, "x", username=f"user{n}").status_code for n in range(7)]
    assert statuses == [400] * 6 + [429]
    assert login(api_client, "correct horse", ip="10.0.0.2").status_code == 200


def test_login_answers_carry_the_client_limit_headers(api_client, shopper, limits):
    first = login(api_client, "correct horse")
    second = login(api_client, "nope")
    assert (first["RateLimit-Limit"], first["RateLimit-Remaining"]) == ("6", "5")
    assert second["RateLimit-Remaining"] == "4"
    assert 0 < int(second["RateLimit-Reset"]) <= 60
