from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery_app import app
from storefront.common.errors import ConflictError
from storefront.orders import services
from storefront.orders.models import IdempotencyKey, Order
from storefront.orders.selectors import OrderDetail
from storefront.orders.services import (
    OrderLine,
    OrderPlacement,
    idempotency_keys_purge,
    order_place,
)
from storefront.orders.tasks import purge_idempotency_keys

pytestmark = pytest.mark.django_db


def buy_a_mouse(shop, key: str) -> OrderPlacement:
    return order_place(
        store_id=shop.store.pk, items=[OrderLine(shop.mouse.pk, 1)], idempotency_key=key
    )


def keyed_order(shop, key: str, *, age: timedelta) -> OrderDetail:
    """An order whose Idempotency-Key was claimed `age` ago."""
    order = buy_a_mouse(shop, key).order
    IdempotencyKey.objects.filter(key=key).update(created_at=timezone.now() - age)
    return order


def test_keys_past_their_ttl_are_purged_and_their_orders_kept(shop, settings):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 24
    old = keyed_order(shop, "old", age=timedelta(hours=25))
    recent = keyed_order(shop, "recent", age=timedelta(hours=23))

    assert purge_idempotency_keys() == 1

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["recent"]
    assert set(Order.objects.values_list("pk", flat=True)) == {old.id, recent.id}
    # The recent key still replays; the purged one no longer does: a retry is a new order.
    again = buy_a_mouse(shop, "recent")
    assert (again.replayed, again.order.id) == (True, recent.id)
    retried = buy_a_mouse(shop, "old")
    assert not retried.replayed and retried.order.id not in {old.id, recent.id}


def test_a_backlog_is_purged_batch_after_batch(shop):
    for n in range(5):
        keyed_order(shop, f"k{n}", age=timedelta(hours=48))

    assert idempotency_keys_purge(older_than=timedelta(hours=24), batch_size=2) == 5
    assert not IdempotencyKey.objects.exists()


def test_a_key_purged_while_its_retry_runs_is_a_conflict_not_an_error(shop, monkeypatch):
    keyed_order(shop, "late", age=timedelta(hours=48))
    replay = services._replay

    def purge_meanwhile(*args, **kwargs):  # orders_place found the key taken: nothing written
        idempotency_keys_purge(older_than=timedelta(hours=24))
        return replay(*args, **kwargs)

    monkeypatch.setattr(services, "_replay", purge_meanwhile)
    with pytest.raises(ConflictError, match="expired"):
        buy_a_mouse(shop, "late")


def test_celery_beat_runs_the_purge_every_hour():
    [entry] = [e for e in app.conf.beat_schedule.values() if e["task"].endswith("idempotency_keys")]
    assert entry["task"] == purge_idempotency_keys.name
    assert entry["task"] in app.tasks
    assert entry["schedule"] == 3600.0
