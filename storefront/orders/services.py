"""Placing and cancelling orders. Every stock change of the order path happens here.

Locking protocol (see docs/orders.md): a transaction that changes stock locks the store's
inventory rows with SELECT ... FOR UPDATE in ascending product id order, and only then reads
the quantities it decides on. One global order means two transactions that need the same rows
queue behind each other instead of deadlocking. Cancelling locks the order row first, then the
inventory rows in the same product order. Placing never locks order rows, so no cycle exists.
On SQLite FOR UPDATE is a no-op, but IMMEDIATE transactions serialize all writers.
"""

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from storefront.catalog.models import Product
from storefront.common.errors import ConflictError
from storefront.notifications.services import order_email_create
from storefront.orders.models import IdempotencyKey, Order, OrderItem
from storefront.stores.models import Inventory
from storefront.stores.selectors import store_exists, store_is_managed_by


@dataclass(frozen=True)
class OrderLine:
    product_id: int
    quantity: int


@dataclass(frozen=True)
class OrderPlacement:
    order: Order
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

    Unknown store => NotFound; unknown product => ValidationError (nothing is written). A
    product the store does not carry is simply out of stock there: the order is REJECTED.
    """
    wanted = _merge_lines(items)
    with transaction.atomic(durable=True):
        prices = _catalog_prices(store_id=store_id, items=items)
        claim = None
        if idempotency_key:
            claim = _idempotency_claim(
                key=idempotency_key,
                fingerprint=_fingerprint(
                    store_id=store_id, wanted=wanted, email=email, placed_by=placed_by
                ),
            )
            if claim.order is not None:
                return OrderPlacement(order=claim.order, replayed=True)

        stock = _lock_stock(store_id=store_id, product_ids=wanted)
        shortfalls = {
            product_id: max(
                0, quantity - (stock[product_id].quantity if product_id in stock else 0)
            )
            for product_id, quantity in wanted.items()
        }
        confirmed = not any(shortfalls.values())
        order = Order.objects.create(
            store_id=store_id,
            status=Order.Status.CONFIRMED if confirmed else Order.Status.REJECTED,
            email=email,
            placed_by=placed_by,
            total_items=sum(wanted.values()),
            total_amount=sum(
                (prices[product_id] * quantity for product_id, quantity in wanted.items()),
                Decimal("0.00"),
            ),
        )
        OrderItem.objects.bulk_create(
            OrderItem(
                order=order,
                product_id=product_id,
                quantity=quantity,
                unit_price=prices[product_id],
                shortfall=shortfalls[product_id],
            )
            for product_id, quantity in wanted.items()
        )
        if confirmed:
            _adjust_stock(rows=stock.values(), deltas={p: -q for p, q in wanted.items()})
            order_email_create(order=order)
        if claim is not None:
            claim.order = order
            claim.save(update_fields=["order"])
    return OrderPlacement(order=order, replayed=False)


def order_cancel(*, order_id: int, cancelled_by: AbstractBaseUser) -> Order:
    """CONFIRMED -> CANCELLED with its stock returned. The order row lock makes it happen once."""
    with transaction.atomic(durable=True):
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:
            raise NotFound("Order not found.")
        if not store_is_managed_by(store_id=order.store_id, user=cancelled_by):
            raise PermissionDenied("Only staff of this store may cancel its orders.")
        if order.status != Order.Status.CONFIRMED:
            raise ConflictError(
                f"Only CONFIRMED orders can be cancelled; this one is {order.status}."
            )

        returned = dict(order.items.values_list("product_id", "quantity"))
        stock = _lock_stock(store_id=order.store_id, product_ids=returned)
        _adjust_stock(rows=stock.values(), deltas=returned)
        # A stock row deleted since the order was placed comes back holding the returned units.
        Inventory.objects.bulk_create(
            Inventory(store_id=order.store_id, product_id=product_id, quantity=quantity)
            for product_id, quantity in returned.items()
            if product_id not in stock
        )
        order.status = Order.Status.CANCELLED
        order.cancelled_at = timezone.now()
        order.save(update_fields=["status", "cancelled_at"])
    return order


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


def _catalog_prices(*, store_id: int, items: Sequence[OrderLine]) -> dict[int, Decimal]:
    """Current unit prices of the ordered products; unknown store or product is an error."""
    if not store_exists(store_id=store_id):
        raise NotFound(f"Store {store_id} does not exist.")
    product_ids = {line.product_id for line in items}
    prices = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "price"))
    unknown = {
        index: {"product_id": [f"Product {line.product_id} does not exist."]}
        for index, line in enumerate(items)
        if line.product_id not in prices
    }
    if unknown:
        raise ValidationError({"items": unknown})
    return prices


def _fingerprint(
    *, store_id: int, wanted: dict[int, int], email: str, placed_by: AbstractBaseUser | None
) -> str:
    # The user is part of the request: another client reusing a key gets a 409, not our order.
    request = {
        "store": store_id,
        "items": sorted(wanted.items()),
        "email": email,
        "user": placed_by.pk if placed_by is not None else None,
    }
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()


def _idempotency_claim(*, key: str, fingerprint: str) -> IdempotencyKey:
    """Claims `key` for this transaction, or returns the committed claim of an earlier request.

    On PostgreSQL a concurrent INSERT of the same key waits on the unique index until the
    first transaction ends: it then fails (first committed; replay its order) or succeeds
    (first rolled back; place the order ourselves).
    """
    try:
        with transaction.atomic():  # a savepoint, so the duplicate key does not doom the order
            return IdempotencyKey.objects.create(key=key, fingerprint=fingerprint)
    except IntegrityError:
        earlier = IdempotencyKey.objects.select_related("order").get(key=key)
    if earlier.fingerprint != fingerprint:
        raise ConflictError("This Idempotency-Key was already used with a different request.")
    return earlier


def _lock_stock(*, store_id: int, product_ids: Iterable[int]) -> dict[int, Inventory]:
    """Locks the store's inventory rows for these products, always in product id order."""
    rows = (
        Inventory.objects.select_for_update()
        .filter(store_id=store_id, product_id__in=list(product_ids))
        .order_by("product_id")
    )
    return {row.product_id: row for row in rows}


def _adjust_stock(*, rows: Iterable[Inventory], deltas: dict[int, int]) -> None:
    """Adds deltas[product_id] to each locked row in one UPDATE.

    Relative (quantity + delta) rather than absolute values, so even a caller that forgot to
    lock could not overwrite a concurrent change; the CHECK (quantity >= 0) backs it up.
    """
    rows = list(rows)
    now = timezone.now()
    for row in rows:
        row.quantity = F("quantity") + deltas[row.product_id]
        row.updated_at = now
    Inventory.objects.bulk_update(rows, ["quantity", "updated_at"])
