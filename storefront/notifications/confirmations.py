"""What a confirmation email says, and who supplies it: the interface notifications owns.

The orders app writes the outbox row when an order is confirmed (sql/outbox.sql) and, once at
start-up, gives this module a source of `OrderConfirmation`s (`confirmations_source_set`, from
its AppConfig.ready). Notifications thereby never imports orders.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class ConfirmationLine:
    title: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


@dataclass(frozen=True)
class OrderConfirmation:
    order_id: int
    recipient: str  # "" when the order has no address
    lines: list[ConfirmationLine]
    total: Decimal


# Given order ids, returns the confirmations of those still CONFIRMED (others are left out).
ConfirmationsSource = Callable[[list[int]], dict[int, OrderConfirmation]]

_source: ConfirmationsSource | None = None


def confirmations_source_set(source: ConfirmationsSource) -> None:
    global _source
    _source = source


def order_confirmations(order_ids: list[int]) -> dict[int, OrderConfirmation]:
    if _source is None:
        raise RuntimeError("No confirmations source: the orders app is not installed.")
    return _source(order_ids)
