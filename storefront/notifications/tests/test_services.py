import logging
from datetime import timedelta
from smtplib import SMTPServerDisconnected

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from storefront.notifications.models import OrderEmail
from storefront.notifications.services import order_email_drain, order_email_send
from storefront.orders.models import Order

pytestmark = pytest.mark.django_db

BROKEN_BACKEND = "storefront.notifications.tests.backends.BrokenEmailBackend"


def outbox_of(order) -> OrderEmail:
    return OrderEmail.objects.get(order=order)


def test_send_mails_the_order_lines_and_total_and_marks_it_sent(place_order):
    order = place_order(email="ann@example.com")

    sent = order_email_send(order_email_id=outbox_of(order).pk)

    assert (sent.status, sent.attempts, sent.recipient) == ("SENT", 1, "ann@example.com")
    assert sent.sent_at is not None
    [message] = mail.outbox
    assert message.to == ["ann@example.com"]
    assert f"#{order.pk}" in message.subject
    assert "1 x Laptop at 999.99 = 999.99" in message.body
    assert "2 x Mouse at 19.50 = 39.00" in message.body
    assert "Total: 1038.99" in message.body


def test_sending_twice_mails_once(place_order):
    outbox = outbox_of(place_order(email="ann@example.com"))

    order_email_send(order_email_id=outbox.pk)
    again = order_email_send(order_email_id=outbox.pk)

    assert again.status == "SENT"
    assert len(mail.outbox) == 1


def test_without_an_order_email_the_buyer_account_address_is_used(place_order):
    buyer = get_user_model().objects.create_user("bob", email="bob@example.com")
    order_email_send(order_email_id=outbox_of(place_order(placed_by=buyer)).pk)
    assert mail.outbox[0].to == ["bob@example.com"]


def test_without_any_address_the_email_is_skipped(place_order):
    skipped = order_email_send(order_email_id=outbox_of(place_order()).pk)
    assert (skipped.status, skipped.last_error) == ("SKIPPED", "no address")
    assert mail.outbox == []


def test_order_cancelled_before_the_email_went_out_is_skipped(place_order):
    order = place_order(email="ann@example.com")
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED)

    assert order_email_send(order_email_id=outbox_of(order).pk).status == "SKIPPED"
    assert mail.outbox == []


def test_backend_failure_is_recorded_left_pending_and_raised(place_order, settings):
    settings.EMAIL_BACKEND = BROKEN_BACKEND
    outbox = outbox_of(place_order(email="ann@example.com"))

    with pytest.raises(SMTPServerDisconnected):
        order_email_send(order_email_id=outbox.pk)

    outbox.refresh_from_db()
    assert (outbox.status, outbox.attempts) == ("PENDING", 1)
    assert "SMTPServerDisconnected" in outbox.last_error


def test_gives_up_after_the_maximum_number_of_attempts(place_order, settings):
    settings.EMAIL_BACKEND = BROKEN_BACKEND
    settings.ORDER_EMAIL_MAX_ATTEMPTS = 2
    outbox = outbox_of(place_order(email="ann@example.com"))

    with pytest.raises(SMTPServerDisconnected):
        order_email_send(order_email_id=outbox.pk)
    assert order_email_send(order_email_id=outbox.pk).status == "FAILED"
    assert order_email_send(order_email_id=outbox.pk).attempts == 2


def age(outbox: OrderEmail, seconds: int) -> None:
    OrderEmail.objects.filter(pk=outbox.pk).update(
        updated_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_drain_sends_stale_pending_rows_and_leaves_fresh_ones(place_order, settings):
    settings.ORDER_EMAIL_DRAIN_AFTER_SECONDS = 30
    stale = outbox_of(place_order(email="old@example.com"))
    fresh = outbox_of(place_order(email="new@example.com"))
    age(stale, 60)

    assert order_email_drain() == 1

    assert [m.to for m in mail.outbox] == [["old@example.com"]]
    fresh.refresh_from_db()
    assert fresh.status == "PENDING"
    assert order_email_drain() == 0


def test_drain_goes_on_after_a_failing_row(place_order, settings):
    settings.EMAIL_BACKEND = BROKEN_BACKEND
    first = outbox_of(place_order(email="a@example.com"))
    second = outbox_of(place_order(email="b@example.com"))

    assert order_email_drain(older_than=timedelta(0)) == 2

    assert OrderEmail.objects.get(pk=first.pk).attempts == 1
    assert OrderEmail.objects.get(pk=second.pk).attempts == 1


def test_drain_outbox_command_sends_pending_rows(place_order):
    place_order(email="ann@example.com")
    call_command("drain_outbox", "--older-than", "0")
    assert len(mail.outbox) == 1
    assert OrderEmail.objects.get().status == "SENT"


def test_what_was_done_is_logged_as_one_structured_line(place_order, caplog):
    outbox = outbox_of(place_order(email="ann@example.com"))
    with caplog.at_level(logging.INFO, logger="storefront.notifications"):
        order_email_send(order_email_id=outbox.pk)

    [record] = [r for r in caplog.records if getattr(r, "event", None) == "order_email"]
    assert record.msg == "order email sent"
    assert (record.order_id, record.status, record.attempts) == (outbox.order_id, "SENT", 1)
