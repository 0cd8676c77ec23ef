"""The on-commit path: a send task is asked for only when the order's transaction commits."""

import pytest
from django.core import mail
from django.db import transaction
from rest_framework.test import APIClient

from storefront.notifications.models import OrderEmail
from storefront.notifications.tasks import drain_order_emails, send_pending_order_emails

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
    place_order, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        place_order(email="ann@example.com")
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
def test_rolled_back_order_sends_nothing(place_order, private_broker, published):
    with pytest.raises(RuntimeError), transaction.atomic():
        assert place_order(email="ann@example.com").status == "CONFIRMED"
        raise RuntimeError("something later in the transaction failed")

    assert published == []  # no task asked for
    assert not OrderEmail.objects.exists()
    send_pending_order_emails.apply()  # and a task that runs anyway finds nothing to send
    assert mail.outbox == []


@pytest.mark.django_db
def test_duplicated_task_sends_once(place_order, celery_eager):
    place_order(email="ann@example.com")

    send_pending_order_emails.delay()
    send_pending_order_emails.delay()

    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_failed_email_stays_pending_for_the_drain(place_order, celery_eager, settings):
    settings.EMAIL_BACKEND = BROKEN_BACKEND
    outbox = OrderEmail.objects.get(order_id=place_order(email="ann@example.com").id)

    send_pending_order_emails.delay()
    send_pending_order_emails.delay()  # tries new rows only: no retry here

    outbox.refresh_from_db()
    assert (outbox.status, outbox.attempts) == ("PENDING", 1)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ORDER_EMAIL_DRAIN_AFTER_SECONDS = 0
    drain_order_emails.delay()
    outbox.refresh_from_db()
    assert (outbox.status, outbox.attempts) == ("SENT", 2)
