"""The on-commit path: the task is published only when the order's transaction commits."""

import pytest
from django.core import mail
from rest_framework.test import APIClient

from storefront.notifications.models import OrderEmail
from storefront.notifications.tasks import send_order_email
from storefront.orders import services as order_services
from storefront.orders.models import Order
from storefront.stores.models import Inventory

BROKEN_BACKEND = "storefront.notifications.tests.backends.BrokenEmailBackend"


def post_order(shop, quantity: int = 1):
    body = {
        "store": shop.store.pk,
        "items": [{"product_id": shop.laptop.pk, "quantity": quantity}],
        "email": "ann@example.com",
    }
    return APIClient().post("/orders/", body, format="json")


@pytest.mark.django_db
def test_email_is_sent_once_and_only_after_the_order_commits(
    shop, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_order(shop)
    assert response.status_code == 201
    assert mail.outbox == []  # the transaction is over, but its commit hooks have not run
    assert len(callbacks) == 1

    callbacks[0]()

    assert len(mail.outbox) == 1
    assert OrderEmail.objects.get().status == "SENT"


@pytest.mark.django_db
def test_rejected_order_sends_nothing(shop, celery_eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert post_order(shop, quantity=99).json()["status"] == "REJECTED"
    assert callbacks == []
    assert not OrderEmail.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_real_commit_publishes_the_task_and_the_email_goes_out(shop, celery_eager):
    response = post_order(shop)

    assert response.json()["status"] == "CONFIRMED"
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]
    assert OrderEmail.objects.get().status == "SENT"


@pytest.mark.django_db(transaction=True)
def test_rolled_back_order_sends_nothing(shop, celery_eager, monkeypatch):
    def create_outbox_then_fail(*, order):
        real_order_email_create(order=order)
        raise RuntimeError("something later in the transaction failed")

    real_order_email_create = order_services.order_email_create
    monkeypatch.setattr(order_services, "order_email_create", create_outbox_then_fail)

    with pytest.raises(RuntimeError):
        order_services.order_place(
            store_id=shop.store.pk,
            items=[order_services.OrderLine(shop.laptop.pk, 1)],
            email="ann@example.com",
        )

    assert mail.outbox == []
    assert not Order.objects.exists()
    assert not OrderEmail.objects.exists()
    assert Inventory.objects.get(product=shop.laptop).quantity == 5


@pytest.mark.django_db
def test_duplicated_task_sends_once(place_order, celery_eager):
    outbox = OrderEmail.objects.get(order=place_order(email="ann@example.com"))

    send_order_email.delay(outbox.pk)
    send_order_email.delay(outbox.pk)

    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_task_retries_failures_then_leaves_the_row_to_the_drain(
    place_order, celery_eager, settings
):
    settings.EMAIL_BACKEND = BROKEN_BACKEND
    outbox = OrderEmail.objects.get(order=place_order(email="ann@example.com"))

    result = send_order_email.apply(args=[outbox.pk])

    assert result.failed()
    outbox.refresh_from_db()
    assert outbox.attempts == send_order_email.max_retries + 1
    assert outbox.status == "PENDING"
    assert send_order_email.retry_backoff and send_order_email.retry_jitter
