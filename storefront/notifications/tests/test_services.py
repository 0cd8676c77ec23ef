import json
import logging
import socket
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from storefront.common.logging import JsonFormatter, masked_addresses
from storefront.notifications.models import OrderEmail
from storefront.notifications.services import order_emails_drain, order_emails_send_pending
from storefront.notifications.tests.backends import ConnectionCountingBackend
from storefront.orders.models import Order

pytestmark = pytest.mark.django_db

BACKENDS = "storefront.notifications.tests.backends"
BROKEN_BACKEND = f"{BACKENDS}.BrokenEmailBackend"


def outbox_of(order) -> OrderEmail:
    return OrderEmail.objects.get(order_id=order.id)


def test_send_mails_the_order_lines_and_total_and_marks_it_sent(place_order):
    order = place_order(email="ann@example.com")

    assert order_emails_send_pending() == 1

    sent = outbox_of(order)
    assert (sent.status, sent.attempts, sent.recipient) == ("SENT", 1, "ann@example.com")
    assert sent.sent_at is not None
    [message] = mail.outbox
    assert message.to == ["ann@example.com"]
    assert f"#{order.id}" in message.subject
    assert "1 x Laptop at 999.99 = 999.99" in message.body
    assert "2 x Mouse at 19.50 = 39.00" in message.body
    assert "Total: 1038.99" in message.body


def test_sending_twice_mails_once(place_order):
    place_order(email="ann@example.com")

    order_emails_send_pending()
    assert order_emails_send_pending() == 0
    assert order_emails_drain(older_than=timedelta(0)) == 0

    assert len(mail.outbox) == 1


def test_a_batch_sends_every_order_its_own_email_over_one_connection(
    place_order, settings, django_assert_max_num_queries
):
    settings.EMAIL_BACKEND = f"{BACKENDS}.ConnectionCountingBackend"
    ConnectionCountingBackend.opened = 0
    orders = [place_order(laptops=1, mice=1, email=f"c{n}@example.com") for n in range(5)]

    # The claim, the orders with their buyers, the lines with their products (the orders
    # app's confirmations source), the outcomes (one executemany), and the savepoint and its
    # release standing in for BEGIN and COMMIT: as many for five emails as for one.
    with django_assert_max_num_queries(6):
        assert order_emails_send_pending() == 5

    assert sorted((m.to[0], m.subject) for m in mail.outbox) == sorted(
        (f"c{n}@example.com", f"Order #{order.id} confirmed") for n, order in enumerate(orders)
    )
    assert ConnectionCountingBackend.opened == 1
    assert set(OrderEmail.objects.values_list("status", "attempts")) == {("SENT", 1)}


def test_rows_are_sent_in_batches_of_the_given_size(place_order):
    for n in range(5):
        place_order(laptops=1, mice=1, email=f"c{n}@example.com")

    assert order_emails_send_pending(batch_size=2) == 5

    assert len(mail.outbox) == 5


def test_without_an_order_email_the_buyer_account_address_is_used(place_order):
    buyer = get_user_model().objects.create_user("bob", email="bob@example.com")
    place_order(placed_by=buyer)
    order_emails_send_pending()
    assert mail.outbox[0].to == ["bob@example.com"]


def test_without_any_address_the_email_is_skipped(place_order):
    skipped = outbox_of(place_order())
    order_emails_send_pending()
    skipped.refresh_from_db()
    assert (skipped.status, skipped.last_error) == ("SKIPPED", "no address")
    assert mail.outbox == []


def test_order_cancelled_before_the_email_went_out_is_skipped(place_order):
    order = place_order(email="ann@example.com")
    Order.objects.filter(pk=order.id).update(status=Order.Status.CANCELLED)

    order_emails_send_pending()

    assert outbox_of(order).status == "SKIPPED"
    assert mail.outbox == []


def test_backend_failure_is_recorded_and_left_pending_for_the_drain(place_order, settings):
    settings.EMAIL_BACKEND = BROKEN_BACKEND
    outbox = outbox_of(place_order(email="ann@example.com"))

    assert order_emails_send_pending() == 1

    outbox.refresh_from_db()
    assert (outbox.status, outbox.attempts) == ("PENDING", 1)
    assert "SMTPServerDisconnected" in outbox.last_error
    # Attempted once: the next dispatched task leaves it to the drain.
    assert order_emails_send_pending() == 0
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert order_emails_drain(older_than=timedelta(0)) == 1
    outbox.refresh_from_db()
    assert (outbox.status, outbox.attempts) == ("SENT", 2)
    assert len(mail.outbox) == 1


@pytest.fixture
def silent_mail_server():
    """A TCP port that accepts connections (the kernel's backlog) and never says a word."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def test_a_mail_server_that_hangs_fails_the_attempt_after_email_timeout(
    place_order, settings, silent_mail_server
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", silent_mail_server
    settings.EMAIL_TIMEOUT = 0.5
    outbox = outbox_of(place_order(email="ann@example.com"))

    started = time.monotonic()
    assert order_emails_send_pending() == 1

    assert time.monotonic() - started < 5  # without a timeout: blocked for good, rows locked
    outbox.refresh_from_db()
    assert (outbox.status, outbox.attempts) == ("PENDING", 1)
    assert "timed out" in outbox.last_error


def test_one_refused_email_does_not_hold_back_the_rest_of_its_batch(place_order, settings):
    settings.EMAIL_BACKEND = f"{BACKENDS}.PickyEmailBackend"
    before = place_order(laptops=1, mice=1, email="a@example.com")
    refused = place_order(laptops=1, mice=1, email="refused@example.com")
    after = place_order(laptops=1, mice=1, email="b@example.com")

    order_emails_send_pending()

    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.com", "b@example.com"]
    assert [outbox_of(order).status for order in (before, refused, after)] == [
        "SENT",
        "PENDING",
        "SENT",
    ]
    assert "SMTPRecipientsRefused" in outbox_of(refused).last_error


def test_the_drain_gives_up_after_the_maximum_number_of_attempts(place_order, settings):
    settings.EMAIL_BACKEND = BROKEN_BACKEND
    settings.ORDER_EMAIL_MAX_ATTEMPTS = 3
    outbox = outbox_of(place_order(email="ann@example.com"))

    order_emails_send_pending()
    order_emails_drain(older_than=timedelta(0))
    outbox.refresh_from_db()
    assert (outbox.status, outbox.attempts) == ("PENDING", 2)

    order_emails_drain(older_than=timedelta(0))
    outbox.refresh_from_db()
    assert (outbox.status, outbox.attempts) == ("FAILED", 3)
    assert order_emails_drain(older_than=timedelta(0)) == 0


def age(outbox: OrderEmail, seconds: int) -> None:
    OrderEmail.objects.filter(pk=outbox.pk).update(
        updated_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_drain_sends_stale_pending_rows_and_leaves_fresh_ones(place_order, settings):
    settings.ORDER_EMAIL_DRAIN_AFTER_SECONDS = 30
    stale = outbox_of(place_order(email="old@example.com"))
    fresh = outbox_of(place_order(email="new@example.com"))
    age(stale, 60)

    assert order_emails_drain() == 1

    assert [m.to for m in mail.outbox] == [["old@example.com"]]
    fresh.refresh_from_db()
    assert fresh.status == "PENDING"
    assert order_emails_drain() == 0


def test_drain_stops_at_its_limit(place_order):
    for n in range(3):
        place_order(laptops=1, mice=1, email=f"c{n}@example.com")

    assert order_emails_drain(older_than=timedelta(0), limit=2) == 2

    assert len(mail.outbox) == 2


def test_drain_outbox_command_sends_pending_rows(place_order):
    place_order(email="ann@example.com")
    call_command("drain_outbox", "--older-than", "0")
    assert len(mail.outbox) == 1
    assert OrderEmail.objects.get().status == "SENT"


def test_what_was_done_is_logged_as_one_structured_line(place_order, caplog):
    outbox = outbox_of(place_order(email="ann@example.com"))
    with caplog.at_level(logging.INFO, logger="storefront.notifications"):
        order_emails_send_pending()

    [record] = [r for r in caplog.records if getattr(r, "event", None) == "order_email"]
    assert record.msg == "order email sent"
    assert (record.order_id, record.status, record.attempts) == (outbox.order_id, "SENT", 1)
    assert record.recipient == "a***@example.com"
    assert "ann@example.com" not in caplog.text


def test_the_default_backend_logs_an_email_as_one_line_of_readable_fields(
    place_order, settings, caplog
):
    settings.EMAIL_BACKEND = "storefront.common.mail.LogEmailBackend"  # tests use locmem
    order = place_order(email="ann@example.com")
    with caplog.at_level(logging.INFO, logger="storefront.email"):
        order_emails_send_pending()

    [record] = [r for r in caplog.records if r.name == "storefront.email"]
    line = JsonFormatter().format(record)
    assert "\\n" not in line  # no message squeezed into one escaped string
    logged = json.loads(line)
    assert logged["msg"] == f"email: Order #{order.id} confirmed"
    assert logged["subject"] == f"Order #{order.id} confirmed"
    assert (logged["to"], logged["order_id"]) == (["a***@example.com"], order.id)
    assert logged["body"][-1] == "Total: 1038.99"
    assert "ann@example.com" not in line


def test_a_refused_address_is_masked_in_the_logged_error(place_order, settings, caplog):
    settings.EMAIL_BACKEND = f"{BACKENDS}.PickyEmailBackend"
    place_order(email="refused@example.com")
    with caplog.at_level(logging.INFO, logger="storefront.notifications"):
        order_emails_send_pending()

    [record] = [r for r in caplog.records if getattr(r, "event", None) == "order_email"]
    assert "r***@example.com" in record.error
    assert "refused@" not in caplog.text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("ann@example.com", "a***@example.com"),
        (
            "SMTPRecipientsRefused: {'bo@x.org': (550, b'<bo@x.org> unknown')}",
            "SMTPRecipientsRefused: {'b***@x.org': (550, b'<b***@x.org> unknown')}",
        ),
        ("no address here", "no address here"),
    ],
)
def test_addresses_are_masked_wherever_they_appear(text, masked):
    assert masked_addresses(text) == masked
