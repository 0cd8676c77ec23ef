"""Placing and cancelling orders.

Stock belongs to the inventory app and the confirmation-email outbox to notifications; orders
asks them and writes only its own tables. Locking protocol (docs/orders.md): stock rows are
locked by inventory_lock only, in ascending product id, so two transactions that need the same
rows queue instead of deadlocking. Cancelling locks the order row first, then the stock rows;
placing never locks existing order rows, so no cycle exists.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import NamedTuple

from django.contrib.auth.models import AbstractBaseUser, AbstractUser, AnonymousUser
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from storefront.common.errors import ConflictError
from storefront.common.idempotency import KeyExpired, KeyReused, fingerprint, keys_purge
from storefront.inventory.services import stock_return
from storefront.notifications.services import order_emails_dispatch
from storefront.orders.models import IdempotencyKey, Order
from storefront.orders.selectors import (
    OrderDetail,
    OrderLineDetail,
    order_detail,
    order_visible_to,
)
from storefront.stores.selectors import store_is_managed_by

# sql/orders_place.sql: one call is the whole placement, its own transaction in autocommit.
_PLACE = (
    "SELECT * FROM orders_place(%(store)s::bigint, %(products)s::bigint[], "
    "%(quantities)s::integer[], %(email)s::text, %(placed_by)s::integer, "
    "%(now)s::timestamptz, %(key)s::text, %(fingerprint)s::text)"
)


class OrderNotFound(NotFound):
    """No such order, or one the user may not see: the two answer alike, so that nobody learns
    which ids exist."""

    default_detail = "Order not found."


class _PlacedRow(NamedTuple):
    """A row of orders_place (see sql/orders_place.sql), read by column name."""

    outcome: str
    order_id: int
    product_id: int
    title: str
    price: Decimal
    quantity: int
    available: int
    shortfall: int
    total_amount: Decimal


@dataclass(frozen=True)
class OrderLine:
    product_id: int
    quantity: int


@dataclass(frozen=True)
class OrderPlacement:
    order: OrderDetail
    # True when an Idempotency-Key retry returned the order an earlier request placed.
    replayed: bool


def order_place(
    *,
    store_id: int,
    items: Sequence[OrderLine],
    email: str = "",
    placed_by: AbstractBaseUser | None = None,
    idempotency_key: str | None = None,
) -> OrderPlacement:
    """Places an order all or nothing: CONFIRMED with stock taken, or REJECTED untouched.

    Unknown store => NotFound; unknown or archived product => ValidationError (nothing is
    written). A product the store does not carry is simply out of stock there: REJECTED.

    One database call (sql/orders_place.sql). Called in autocommit, as the API does, that call
    is the transaction, so the stock rows are locked only while PostgreSQL works; inside an
    atomic block it joins that block (and its locks last until the block commits).
    """
    wanted = _merge_lines(items)
    placed_by_id = placed_by.pk if placed_by is not None else None
    fingerprint = None
    if idempotency_key:
        fingerprint = _fingerprint(
            store_id=store_id, wanted=wanted, email=email, placed_by_id=placed_by_id
        )
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _PLACE,
            {
                "store": store_id,
                "products": list(wanted),
                "quantities": list(wanted.values()),
                "email": email,
                "placed_by": placed_by_id,
                "now": now,
                "key": idempotency_key,
                "fingerprint": fingerprint,
            },
        )
        columns = [column.name for column in cursor.description]
        rows = [_PlacedRow(**dict(zip(columns, row, strict=True))) for row in cursor.fetchall()]
    # No row at all: the key's order was replayed, but the key was purged before we read it.
    outcome = rows[0].outcome if rows else "replayed"
    if outcome == "unknown_store":
        raise NotFound(f"Store {store_id} does not exist.")
    if outcome == "unknown_products":
        _raise_unknown_products(
            items=items, known={row.product_id for row in rows if row.price is not None}
        )
    if outcome == "replayed":
        assert idempotency_key is not None and fingerprint is not None
        replayed = _replay(idempotency_key, fingerprint, owner_id=placed_by_id)
        return OrderPlacement(order=replayed, replayed=True)

    confirmed = outcome == Order.Status.CONFIRMED
    if confirmed:
        transaction.on_commit(order_emails_dispatch, robust=True)
    lines = [
        OrderLineDetail(
            product_id=row.product_id,
            title=row.title,
            quantity=row.quantity,
            unit_price=row.price,
            shortfall=row.shortfall,
        )
        for row in rows
    ]
    order = OrderDetail(
        id=rows[0].order_id,
        store_id=store_id,
        status=outcome,
        email=email,
        placed_by_id=placed_by_id,
        lines=lines,
        total_amount=rows[0].total_amount,
        created_at=now,
        cancelled_at=None,
    )
    return OrderPlacement(order=order, replayed=False)


def order_cancel(*, order_id: int, cancelled_by: AbstractUser | AnonymousUser) -> OrderDetail:
    """CONFIRMED -> CANCELLED with its stock returned. The order row lock makes it happen once."""
    with transaction.atomic(durable=True):
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:
            raise OrderNotFound
        if not store_is_managed_by(store_id=order.store_id, user=cancelled_by):
            if not order_visible_to(order=order, user=cancelled_by):
                raise OrderNotFound
            raise PermissionDenied("Only staff of this store may cancel its orders.")
        if order.status != Order.Status.CONFIRMED:
            raise ConflictError(
                f"Only CONFIRMED orders can be cancelled; this one is {order.status}."
            )
        stock_return(
            store_id=order.store_id,
            quantities=dict(order.items.values_list("product_id", "quantity")),
            order_id=order.pk,
            user_id=cancelled_by.pk,
        )
        order.status = Order.Status.CANCELLED
        order.cancelled_at = timezone.now()
        order.save(update_fields=["status", "cancelled_at"])
    detail = order_detail(order_id=order_id)
    assert detail is not None  # orders are never deleted
    return detail


def idempotency_keys_purge(*, older_than: timedelta | None = None, batch_size: int = 10_000) -> int:
    """Deletes Idempotency-Keys older than `older_than` (IDEMPOTENCY_KEY_TTL_HOURS by default);
    returns how many. Their orders stay: a retry after this long places a new order."""
    return keys_purge(IdempotencyKey, older_than=older_than, batch_size=batch_size)


def _merge_lines(items: Sequence[OrderLine]) -> dict[int, int]:
    """{product_id: total quantity}, in ascending product id (the locking order)."""
    if not items:
        raise ValidationError({"items": ["An order needs at least one item."]})
    merged: dict[int, int] = {}
    for line in items:
        if line.quantity <= 0:
            raise ValidationError({"items": ["Every quantity must be a positive integer."]})
        merged[line.product_id] = merged.get(line.product_id, 0) + line.quantity
    return dict(sorted(merged.items()))


def _raise_unknown_products(*, items: Sequence[OrderLine], known: set[int]) -> None:
    raise ValidationError(
        {
            "items": {
                # The errors of an item are under its index, an int: DRF's stubs want str keys.
                index: {"product_id": [f"Product {line.product_id} does not exist."]}  # type: ignore[misc]
                for index, line in enumerate(items)
                if line.product_id not in known
            }
        }
    )


def _fingerprint(
    *, store_id: int, wanted: dict[int, int], email: str, placed_by_id: int | None
) -> str:
    # The user is part of the request: another client reusing a key gets a 409, not our order.
    return fingerprint(
        {"store": store_id, "items": sorted(wanted.items()), "email": email, "user": placed_by_id}
    )


def _replay(key: str, fingerprint: str, *, owner_id: int | None) -> OrderDetail:
    """The order placed earlier under the owner's `key`, if this request is the one that
    placed it."""
    earlier = IdempotencyKey.objects.filter(owner_id=owner_id, key=key).first()
    if earlier is None or earlier.order_id is None:  # past its TTL, purged meanwhile
        raise KeyExpired
    if earlier.fingerprint != fingerprint:
        raise KeyReused
    order = order_detail(order_id=earlier.order_id)
    assert order is not None  # the key's order is deleted with it, never before
    return order
