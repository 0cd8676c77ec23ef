"""Batched sending: one task per burst of orders, no email lost to the timing of a commit,
none sent twice by concurrent senders, and Redis only ever saves publishes."""

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection

from storefront.inventory.models import Inventory
from storefront.notifications import services
from storefront.notifications.models import OrderEmail
from storefront.notifications.services import (
    dispatch_redis,
    order_emails_dispatch,
    order_emails_drain,
)
from storefront.notifications.tests.backends import HookedEmailBackend
from storefront.orders.selectors import OrderDetail
from storefront.orders.services import OrderLine, order_place
from tests.live import RedisServer

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SEND_TASK = "storefront.notifications.tasks.send_pending_order_emails"
HOOKED_BACKEND = "storefront.notifications.tests.backends.HookedEmailBackend"


def buy_a_mouse(shop, email: str):
    """A committed order of one mouse (the shop stocks 10)."""
    placed = order_place(store_id=shop.store.pk, items=[OrderLine(shop.mouse.pk, 1)], email=email)
    return placed.order


def sent_subjects() -> list[str]:
    return sorted(str(message.subject) for message in mail.outbox)


def subjects_of(orders) -> list[str]:
    return sorted(f"Order #{order.id} confirmed" for order in orders)


def test_a_burst_of_orders_publishes_one_task_and_every_email_goes_out_once(
    shop, run_worker, published
):
    burst = [buy_a_mouse(shop, f"first{n}@example.com") for n in range(6)]
    assert published == [SEND_TASK]

    with run_worker() as runs:
        runs.wait_for(1)
    assert sent_subjects() == subjects_of(burst)

    # The task released the key when it started: the next burst publishes again, once.
    later = [buy_a_mouse(shop, f"later{n}@example.com") for n in range(3)]
    assert published == [SEND_TASK, SEND_TASK]

    with run_worker() as runs:
        runs.wait_for(2)
    assert sent_subjects() == subjects_of(burst + later)
    assert set(OrderEmail.objects.values_list("status", "attempts")) == {("SENT", 1)}


@pytest.mark.parametrize("window_ms", [1000, 0])
def test_the_send_task_starts_after_the_batch_window(
    shop, private_broker, published, settings, window_ms
):
    settings.ORDER_EMAIL_BATCH_WINDOW_MS = window_ms
    before = datetime.now(UTC)
    buy_a_mouse(shop, "first@example.com")
    after = datetime.now(UTC)
    assert published == [SEND_TASK]
    if window_ms == 0:
        assert published.etas == [None]
    else:
        # Published between `before` and `after`, to start one window later.
        eta = datetime.fromisoformat(published.etas[0])
        window, slack = timedelta(milliseconds=window_ms), timedelta(milliseconds=10)
        assert before + window - slack <= eta <= after + window + slack


def test_orders_racing_with_the_send_tasks_all_get_their_email_once(
    shop, run_worker, published, settings
):
    """Four threads place orders for 3 s against a real worker and a 300 ms batch window, so
    commits keep landing just before, during and after tasks start. With no drain, every
    email must still go out once: a commit that found the key was seen by that key's task."""
    settings.ORDER_EMAIL_BATCH_WINDOW_MS = 300
    Inventory.objects.filter(product=shop.mouse).update(quantity=100_000)
    orders: list[OrderDetail] = []
    stop = time.monotonic() + 3

    def buy_until_stop(thread: int) -> None:
        try:
            while time.monotonic() < stop:
                orders.append(buy_a_mouse(shop, f"t{thread}-{len(orders)}@example.com"))
        finally:
            connection.close()

    with run_worker() as runs:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(buy_until_stop, range(4)))
        runs.wait_for(len(published))

    assert len(orders) > 20 and len(published) < len(orders)
    assert sent_subjects() == subjects_of(orders)
    assert set(OrderEmail.objects.values_list("status", "attempts")) == {("SENT", 1)}


def test_an_order_committed_while_the_task_runs_still_gets_its_email(
    shop, celery_eager, settings, monkeypatch
):
    """The task deletes the dispatch key before it looks for rows. An order committed while
    it runs, after its query, finds no key and asks for a task of its own."""
    settings.EMAIL_BACKEND = HOOKED_BACKEND
    late = []

    def place_late_order() -> None:
        try:
            late.append(buy_a_mouse(shop, "late@example.com"))
        finally:
            connection.close()

    def commit_another_order_meanwhile(message) -> None:
        if late or message.to != ["first@example.com"]:
            return
        thread = threading.Thread(target=place_late_order)
        thread.start()  # its commit dispatches (and, eager, runs) a task in that thread
        thread.join(timeout=10)
        assert not thread.is_alive(), "the late order's task waited for our locked row"

    monkeypatch.setattr(HookedEmailBackend, "before_send", commit_another_order_meanwhile)

    first = buy_a_mouse(shop, "first@example.com")

    assert len(late) == 1
    assert sent_subjects() == subjects_of([first, *late])
    assert set(OrderEmail.objects.values_list("status", flat=True)) == {"SENT"}


def test_two_concurrent_drains_never_send_the_same_email_twice(
    shop, private_broker, settings, monkeypatch
):
    settings.EMAIL_BACKEND = HOOKED_BACKEND
    monkeypatch.setattr(services, "BATCH_SIZE", 3)
    orders = [buy_a_mouse(shop, f"c{n}@example.com") for n in range(10)]  # no worker: PENDING
    both_sending = threading.Barrier(2, timeout=10)
    waited: set[int] = set()

    def meet_the_other_drain(message) -> None:
        # Each drain holds its first batch until the other holds one too: they overlap.
        if threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            both_sending.wait()

    monkeypatch.setattr(HookedEmailBackend, "before_send", meet_the_other_drain)

    def drain(_) -> int:
        try:
            return order_emails_drain(older_than=timedelta(0))
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        tried = list(pool.map(drain, range(2)))

    assert sent_subjects() == subjects_of(orders)
    assert sum(tried) == 10 and all(tried), tried
    assert set(OrderEmail.objects.values_list("status", "attempts")) == {("SENT", 1)}


@pytest.fixture
def redis_down(settings, tmp_path):
    """REDIS_URL points at a redis-server that was stopped (the cache keeps its own Redis)."""
    server = RedisServer(tmp_path).start()
    server.stop()
    settings.REDIS_URL = server.url()
    dispatch_redis.cache_clear()  # a client for the new URL
    yield
    server.close()
    dispatch_redis.cache_clear()


@pytest.mark.usefixtures("redis_down")
def test_with_redis_down_every_dispatch_still_publishes(private_broker, published, caplog):
    with caplog.at_level(logging.WARNING, logger="storefront.notifications"):
        assert order_emails_dispatch() is True
        assert order_emails_dispatch() is True

    assert published == [SEND_TASK, SEND_TASK]
    assert any(r.event == "order_email_dispatch_key_failed" for r in caplog.records)
