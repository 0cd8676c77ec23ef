"""A confirmed order survives a dead broker; its email goes out once the broker is back."""

import logging
import threading

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.core import mail
from django.db import connection
from rest_framework.test import APIClient

from config.celery_app import app as celery_app
from storefront.notifications.models import OrderEmail
from storefront.notifications.services import order_email_enqueue
from storefront.notifications.tasks import drain_order_emails, send_order_email

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class TaskRuns:
    """Counts tasks the embedded worker finished, closing its thread's database connection."""

    def __init__(self) -> None:
        self.count = 0
        self.done = threading.Condition()

    def __call__(self, **_) -> None:
        connection.close()  # the worker thread's connection, or the test database cannot drop
        with self.done:
            self.count += 1
            self.done.notify_all()

    def wait_for(self, count: int, timeout: float = 30) -> None:
        with self.done:
            assert self.done.wait_for(lambda: self.count >= count, timeout), "worker stalled"


def test_order_succeeds_with_the_broker_down_and_is_emailed_once_it_is_back(
    shop, private_broker, settings, caplog
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
    runs = TaskRuns()
    task_postrun.connect(runs, weak=False)
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
            drain_order_emails.delay()  # what celery beat sends every 30 seconds
            runs.wait_for(1)
            outbox.refresh_from_db()
            assert outbox.status == "SENT"
            assert len(mail.outbox) == 1

            send_order_email.delay(outbox.pk)  # a duplicate message, and another drain
            drain_order_emails.delay()
            runs.wait_for(3)
    finally:
        task_postrun.disconnect(runs)

    assert len(mail.outbox) == 1
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]
    outbox.refresh_from_db()
    assert (outbox.status, outbox.attempts) == ("SENT", 1)


def test_publishing_to_a_dead_broker_reports_failure_instead_of_raising(private_broker):
    private_broker.stop()
    assert order_email_enqueue(order_email_id=1) is False
