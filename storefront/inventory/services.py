"""Every change of a store's stock, each recorded in the ledger (StockMovement): placing
(composed into orders_place), returning, staff adjustments, counts and bulk syncs, admin edits,
and loading a seed.

The statements live in sql/stock.sql, where inventory_lock is the one place stock rows are
locked, always in ascending product id, and inventory_change the one statement that changes a
row's quantity, writing its movement with it. Placing an order takes stock inside the orders
app's one-call placement (orders_place calls inventory_take), so that the rows stay locked only
while PostgreSQL works; everything else comes through the functions below.
"""

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.utils import timezone
from rest_framework.exceptions import NotFound, ValidationError

from storefront.catalog.models import Product
from storefront.common import idempotency
from storefront.common.errors import ConflictError
from storefront.common.serializers import MAX_ID
from storefront.common.sql import copy_rows
from storefront.inventory.models import Inventory, StockMovement, StockReason
from storefront.stores.selectors import store_exists


class BulkMode(enum.StrEnum):
    SET = "set"  # each line's `quantity` becomes the row's quantity
    ADJUST = "adjust"  # each line's `delta` is added to the row's quantity


@dataclass(frozen=True)
class StockLine:
    product_id: int
    value: int  # the quantity to set (BulkMode.SET) or the signed delta to add (ADJUST)


@dataclass(frozen=True)
class MovementWrite:
    movement: StockMovement
    replayed: bool  # an Idempotency-Key retry: the movement an earlier request wrote


@dataclass(frozen=True)
class BulkWrite:
    lines: int
    changed: int  # rows whose quantity changed (every line of an adjust)
    replayed: bool


# The sign a delta must have for its reason (0: either).
DELTA_SIGNS = {
    StockReason.RESTOCK: 1,
    StockReason.RETURN: 1,
    StockReason.DAMAGE: -1,
    StockReason.CORRECTION: 0,
}
MAX_QUANTITY = 2**31 - 1  # the quantity column's largest value
BULK_MAX_LINES = 10_000


class InsufficientStock(ConflictError):
    default_detail = (
        "Not enough stock: the change would leave a row below 0 (or above 2147483647). "
        "Nothing changed."
    )
    default_code = "insufficient_stock"

    def __init__(self, fields: dict[str, Any]) -> None:
        super().__init__()
        self.fields = fields  # the refused lines with their available quantities


def stock_return(
    *, store_id: int, quantities: Mapping[int, int], order_id: int, user_id: int | None
) -> None:
    """Puts `quantities` ({product_id: units}) of the cancelled order back on the store's
    shelf; a stock row deleted since comes back holding them. Joins the caller's transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT inventory_return(%s, %s::bigint[], %s::integer[], %s, %s, %s)",
            [
                store_id,
                list(quantities),
                list(quantities.values()),
                order_id,
                user_id,
                timezone.now(),
            ],
        )


def stock_adjust(
    *,
    store_id: int,
    product_id: int,
    delta: int,
    reason: StockReason,
    reference: str = "",
    user: AbstractBaseUser | AnonymousUser,
    idempotency_key: str | None = None,
) -> MovementWrite:
    """Adds `delta` (signed) to the store's stock of the product, creating the row if the
    store never carried it. InsufficientStock (409) when the stock would go below 0."""
    return _single_write(
        mode=BulkMode.ADJUST,
        store_id=store_id,
        line=StockLine(product_id, delta),
        reason=reason,
        reference=reference,
        user=user,
        idempotency_key=idempotency_key,
    )


def stock_set(
    *,
    store_id: int,
    product_id: int,
    quantity: int,
    reason: StockReason = StockReason.COUNT,
    reference: str = "",
    user: AbstractBaseUser | AnonymousUser | None = None,
    idempotency_key: str | None = None,
) -> MovementWrite:
    """Sets the store's stock of the product (a count, or an edit in the admin), creating the
    row if needed. The delta is computed under the row lock, so an edit never lands in the
    middle of an order's decision; a count that changes nothing is recorded too."""
    return _single_write(
        mode=BulkMode.SET,
        store_id=store_id,
        line=StockLine(product_id, quantity),
        reason=reason,
        reference=reference,
        user=user,
        idempotency_key=idempotency_key,
    )


def stock_bulk(
    *,
    store_id: int,
    mode: BulkMode,
    reason: StockReason,
    lines: Sequence[StockLine],
    reference: str = "",
    user: AbstractBaseUser | AnonymousUser,
    idempotency_key: str | None = None,
) -> BulkWrite:
    """Sets or adjusts many rows of the store at once, all or nothing: one statement for all
    lines, locks in product id order. Distinct products, each of them known, or a 400 naming
    the lines; InsufficientStock naming the lines an adjust would take below 0."""
    result, replayed = _keyed(
        user=user,
        key=idempotency_key,
        request={
            "write": "bulk",
            "store": store_id,
            "mode": mode,
            "reason": reason,
            "lines": [(line.product_id, line.value) for line in lines],
            "reference": reference,
        },
        # The count only: a bulk's answer names no movement.
        write=lambda: {
            "changed": _apply(
                store_id=store_id,
                mode=mode,
                reason=reason,
                lines=lines,
                reference=reference,
                user_id=user.pk,
                single=False,
            )["changed"]
        },
    )
    return BulkWrite(lines=len(lines), changed=result["changed"], replayed=replayed)


def stock_load(*, rows: Iterable[tuple[int, int, int]], at: datetime) -> None:
    """Writes new stock rows, (store_id, product_id, quantity) each, with their `initial`
    movements, by COPY (seed_data): for rows that do not exist yet. Joins the caller's
    transaction."""
    rows = list(rows)
    copy_rows(
        Inventory,
        ["store", "product", "quantity", "updated_at"],
        ((store, product, quantity, at) for store, product, quantity in rows),
    )
    copy_rows(
        StockMovement,
        ["store", "product", "delta", "quantity_after", "reason", "reference", "created_at"],
        (
            (store, product, quantity, quantity, StockReason.INITIAL, "seed_data", at)
            for store, product, quantity in rows
        ),
    )


def _single_write(
    *,
    mode: BulkMode,
    store_id: int,
    line: StockLine,
    reason: StockReason,
    reference: str,
    user: AbstractBaseUser | AnonymousUser | None,
    idempotency_key: str | None,
) -> MovementWrite:
    result, replayed = _keyed(
        user=user,
        key=idempotency_key,
        request={
            "write": mode,
            "store": store_id,
            "product": line.product_id,
            "value": line.value,
            "reason": reason,
            "reference": reference,
        },
        write=lambda: _apply(
            store_id=store_id,
            mode=mode,
            reason=reason,
            lines=[line],
            reference=reference,
            user_id=user.pk if user is not None else None,
            single=True,
        ),
    )
    movement = StockMovement.objects.get(pk=result["movements"][0])
    return MovementWrite(movement=movement, replayed=replayed)


def _keyed(
    *,
    user: AbstractBaseUser | AnonymousUser | None,
    key: str | None,
    request: dict[str, Any],
    write: Callable[[], dict[str, Any]],
) -> tuple[dict[str, Any], bool]:
    """Runs write() at most once per Idempotency-Key (storefront.common.idempotency: the key is
    claimed first, a concurrent retry waits on it, then replays the stored result); without a
    key, in the caller's transaction (the admin's) or its own. A refused write rolls back and
    keeps no key, so it can be retried."""
    done = idempotency.idempotent(
        key=key,
        owner_id=user.pk if user is not None else None,
        operation=f"stock:{request['write']}",
        request=request,
        write=write,
        dump=lambda result: result,
        load=lambda kept: cast(dict[str, Any], kept),
    )
    return done.result, done.replayed


def _apply(
    *,
    store_id: int,
    mode: BulkMode,
    reason: StockReason,
    lines: Sequence[StockLine],
    reference: str,
    user_id: int | None,
    single: bool,
) -> dict[str, Any]:
    """The change itself, inside _keyed's transaction: its result, movement ids in the lines'
    order and how many rows changed. Errors name the failing lines (_at_lines)."""
    if not store_exists(store_id=store_id):
        raise NotFound(f"Store {store_id} does not exist.")
    _check_lines(mode=mode, reason=reason, lines=lines, single=single)
    products = [line.product_id for line in lines]
    values = [line.value for line in lines]
    with connection.cursor() as cursor:
        if mode == BulkMode.SET:
            cursor.execute(
                "SELECT * FROM inventory_set(%s, %s::bigint[], %s::integer[], %s, %s, %s, %s)",
                [store_id, products, values, reason, reference, user_id, timezone.now()],
            )
        else:
            cursor.execute(
                "SELECT * FROM inventory_adjust(%s, %s::bigint[], %s::integer[], %s, NULL, %s, "
                "%s, %s, true)",
                [store_id, products, values, reason, reference, user_id, timezone.now()],
            )
        rows = cursor.fetchall()  # (product_id, available, movement), in the lines' order
    if rows[0][2] is None:  # refused: no line has a movement
        short = {
            index: {"product_id": product_id, "available": available}
            for index, (product_id, available, _) in enumerate(rows)
            if not 0 <= available + values[index] <= MAX_QUANTITY
        }
        raise InsufficientStock(_at_lines(short, single=single))
    if mode == BulkMode.SET:
        changed = sum(
            available != value for (_, available, _), value in zip(rows, values, strict=True)
        )
    else:
        changed = len(rows)  # deltas are never 0
    return {"movements": [movement for _, _, movement in rows], "changed": changed}


_SIGN_ERRORS = {
    1: "A {reason} adds units: the delta must be positive.",
    -1: "A {reason} removes units: the delta must be negative.",
    0: "A {reason} must change the stock: the delta cannot be 0.",
}


def _check_lines(
    *, mode: BulkMode, reason: StockReason, lines: Sequence[StockLine], single: bool
) -> None:
    """ValidationError naming the lines whose product is unknown or on an earlier line, or
    whose delta has the wrong sign for the reason (DELTA_SIGNS; never 0)."""
    if not lines:
        raise ValidationError({"lines": ["At least one line is needed."]})
    if mode == BulkMode.ADJUST:
        sign = DELTA_SIGNS.get(reason)
        if sign is None:
            reasons = ", ".join(DELTA_SIGNS)
            raise ValidationError({"reason": [f"An adjustment's reason is one of {reasons}."]})
        wrong = {
            index: {"delta": [_SIGN_ERRORS[sign].format(reason=reason)]}
            for index, line in enumerate(lines)
            if line.value == 0 or line.value * sign < 0
        }
        if wrong:
            raise ValidationError(_at_lines(wrong, single=single))
    # Ids past a bigint (a path's <int:product_id> is unbounded) can be no product's. One
    # array parameter: 10,000 ids as an ORM `pk__in` cost ~0.4 s to build and send.
    ids = [line.product_id for line in lines if 0 < line.product_id <= MAX_ID]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {Product._meta.db_table} WHERE id = ANY (%s::bigint[])", [ids]
        )
        known = {product_id for (product_id,) in cursor.fetchall()}
    errors: dict[int, dict[str, list[str]]] = {}
    first_line: dict[int, int] = {}
    for index, line in enumerate(lines):
        if line.product_id not in known:
            errors[index] = {"product_id": [f"Product {line.product_id} does not exist."]}
        elif line.product_id in first_line:
            earlier = first_line[line.product_id]
            errors[index] = {"product_id": [f"Product {line.product_id} is on line {earlier}."]}
        first_line.setdefault(line.product_id, index)
    if errors:
        raise ValidationError(_at_lines(errors, single=single))


def _at_lines(errors: Mapping[int, Any], *, single: bool) -> Any:
    """{line index: error} as the API names it: {"lines": {"3": error}} for a bulk, the error
    itself for a single line."""
    if single:
        return errors[0]
    return {"lines": {str(index): error for index, error in errors.items()}}
