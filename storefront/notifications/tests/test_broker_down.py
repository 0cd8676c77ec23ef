"""A confirmed order survives a dead broker; its email goes out once the broker is back."""

import logging

import pytest
from django.core import mail
from rest_framework.test import APIClient

from storefront.notifications.models import OrderEmail
from storefront.notifications.services import order_emails_dispatch
from storefront.notifications.tasks import drain_order_emails, send_pending_order_emails

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_order_succeeds_with_the_broker_down_and_is_emailed_once_it_is_back(
    shop, private_broker, run_worker, settings, caplog
):
    settings.ORDER_EMAIL_DRAIN_AFTER_SECONDS = 0
    private_broker.stop()
    body = {
        "store": shop.store.pk,
        "items": [{"product_id": shop.laptop.pk, "quantity": 2}],
        "email": "ann@example.com",
    }

    with caplog.at_level(logging.WARNING, logger="storefront.notifications"):
        response = APIClient().post("/orders/", body, format="json")

    assert response.status_code == 201
    assert response.json()["status"] == "CONFIRMED"
    outbox = OrderEmail.objects.get()
    assert (outbox.status, outbox.attempts) == ("PENDING", 0)
    assert any(r.event == "order_email_enqueue_failed" for r in caplog.records)

    private_broker.start()
    with run_worker() as runs:
        drain_order_emails.delay()  # what celery beat sends every 30 seconds
        runs.wait_for(1)
        outbox.refresh_from_db()
        assert outbox.status == "SENT"
        assert len(mail.outbox) == 1

        send_pending_order_emails.delay()  # a late or duplicated message, and another drain
        drain_order_emails.delay()
        runs.wait_for(3)

    assert len(mail.outbox) == 1
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]
    outbox.refresh_from_db()
    assert (outbox.status, outbox.attempts) == ("SENT", 1)


def test_publishing_to_a_dead_broker_reports_failure_instead_of_raising(private_broker):
    private_broker.stop()
    assert order_emails_dispatch() is False
