import logging

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.authtoken.models import Token

from storefront.common.proxies import trusted_networks
from storefront.common.ratelimit import RateLimit, rate_limit_hit, rate_limit_release_or_keep

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


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(
    api_client, shopper, limits, settings
):
    settings.TRUSTED_PROXIES = trusted_networks("10.9.0.0/16")

    def through_proxy(forwarded: str):
        credentials = {"username": "shopper", "password": "correct horse"}
        return api_client.post(
            LOGIN, credentials, REMOTE_ADDR="10.9.0.1", HTTP_X_FORWARDED_FOR=forwarded
        )

    assert [through_proxy("198.51.100.1").status_code for _ in range(7)] == [200] * 6 + [429]
    assert through_proxy("203.0.113.5, 198.51.100.1").status_code == 429  # a forged entry
    assert through_proxy("198.51.100.2").status_code == 200


def test_login_answers_carry_the_client_limit_headers(api_client, shopper, limits):
    first = login(api_client, "correct horse")
    second = login(api_client, "nope")
    assert (first["RateLimit-Limit"], first["RateLimit-Remaining"]) == ("6", "5")
    assert second["RateLimit-Remaining"] == "4"
    assert 0 < int(second["RateLimit-Reset"]) <= 60


# DRF strips the username (str.strip(): any unicode whitespace) before authenticating it.
PADDED = [" shopper", "shopper ", "\tshopper", "shopper\n", "shopper\u00a0", " shopper "]


@pytest.mark.parametrize("padded", PADDED)
def test_a_padded_username_is_the_same_username_to_the_limit(api_client, shopper, limits, padded):
    for n in range(3):
        assert login(api_client, "nope", ip=f"10.0.0.{n}").status_code == 400

    assert login(api_client, "guess", username=padded, ip="10.0.1.1").status_code == 429
    right_password = login(api_client, "correct horse", username=padded, ip="10.0.1.2")
    assert right_password.status_code == 429
    assert "token" not in right_password.json()


def test_failures_under_every_padding_count_together(api_client, shopper, limits):
    statuses = [
        login(api_client, "nope", username=padded, ip=f"10.0.2.{n}").status_code
        for n, padded in enumerate(PADDED)
    ]
    assert statuses == [400] * 3 + [429] * 3


def test_the_username_is_compared_as_unicode_normalizes_it(api_client, shopper, limits):
    for n in range(3):
        login(api_client, "nope", ip=f"10.0.0.{n}")
    fullwidth = "\uff53\uff48\uff4f\uff50\uff50\uff45\uff52"  # "shopper" in fullwidth letters
    assert login(api_client, "nope", username=fullwidth, ip="10.0.1.1").status_code == 429


def test_a_correct_login_gives_its_failure_slot_back(api_client, shopper, limits):
    for _ in range(2):
        assert login(api_client, "nope").status_code == 400
    for _ in range(3):
        assert login(api_client, "correct horse").status_code == 200
    assert login(api_client, "nope").status_code == 400
    assert login(api_client, "correct horse").status_code == 429


def test_without_redis_logins_are_allowed_and_logged(
    api_client, shopper, limits, private_redis, caplog
):
    private_redis.stop()
    with caplog.at_level(logging.WARNING):
        statuses = [login(api_client, "nope").status_code for _ in range(4)]
        assert login(api_client, "correct horse").status_code == 200
    assert statuses == [400] * 4
    assert "login rate limit unavailable; allowing request" in caplog.text


def test_a_slot_that_cannot_be_given_back_is_kept_and_logged(private_redis, caplog):
    taken = rate_limit_hit("ratelimit:test:release", RateLimit(limit=1, window=60))
    private_redis.stop()
    with caplog.at_level(logging.WARNING):
        rate_limit_release_or_keep("login", "ratelimit:test:release", taken)
    assert "login rate limit unavailable; slot kept" in caplog.text
