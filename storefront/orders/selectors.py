"""Reading orders. `OrderDetail` is what every order endpoint answers with."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.db.models import Count, Prefetch, QuerySet

from storefront.notifications.confirmations import ConfirmationLine, OrderConfirmation
from storefront.orders.models import Order, OrderItem
from storefront.stores.selectors import store_is_managed_by


@dataclass(frozen=True)
class OrderLineDetail:
    product_id: int
    title: str
    quantity: int  # requested
    unit_price: Decimal  # captured when the order was placed
    shortfall: int  # units the store lacked (REJECTED orders), else 0

    @property
    def line_total(self) -> Decimal:
        return self.quantity * self.unit_price

    @property
    def available(self) -> int:
        return self.quantity - self.shortfall


@dataclass(frozen=True)
class OrderDetail:
    id: int
    store_id: int
    status: str
    email: str
    placed_by_id: int | None
    lines: list[OrderLineDetail]  # ascending product id
    total_amount: Decimal
    created_at: datetime
    cancelled_at: datetime | None

    @property
    def shortfalls(self) -> list[OrderLineDetail]:
        return [line for line in self.lines if line.shortfall]


def _with_lines(orders: QuerySet[Order]) -> QuerySet[Order]:
    """The orders with their items and the items' products, in product id order: one query
    more for all of them."""
    items = OrderItem.objects.select_related("product").order_by("product_id")
    return orders.prefetch_related(Prefetch("items", items))


def order_detail(*, order_id: int) -> OrderDetail | None:
    """One order with its lines, in two queries."""
    order = _with_lines(Order.objects.filter(pk=order_id)).first()
    if order is None:
        return None
    return OrderDetail(
        id=order.pk,
        store_id=order.store_id,
        status=order.status,
        email=order.email,
        placed_by_id=order.placed_by_id,
        lines=[
            OrderLineDetail(
                product_id=item.product_id,
                title=item.product.title,
                quantity=item.quantity,
                unit_price=item.unit_price,
                shortfall=item.shortfall,
            )
            for item in order.items.all()
        ],
        total_amount=order.total_amount,
        created_at=order.created_at,
        cancelled_at=order.cancelled_at,
    )


def order_visible_to(*, order: Order | OrderDetail, user: AbstractUser | AnonymousUser) -> bool:
    """The customer who placed it, and the store's staff, may look at an order."""
    if user.is_authenticated and order.placed_by_id == user.pk:
        return True
    return store_is_managed_by(store_id=order.store_id, user=user)


def order_list_for_store(*, store_id: int) -> QuerySet[Order]:
    """The store's orders, newest first: a walk down order_store_newest_idx.

    The totals were stored on the order when it was placed, so no page joins or aggregates
    the items (a deep page used to aggregate every order of the store before its OFFSET).
    """
    return Order.objects.filter(store_id=store_id).order_by("-created_at", "-id")


def order_list_for_customer(*, user_id: int) -> QuerySet[Order]:
    """The orders the user placed while authenticated, newest first: a walk down
    order_customer_newest_idx (anonymous orders belong to no one)."""
    return Order.objects.filter(placed_by_id=user_id).order_by("-created_at", "-id")


def order_confirmations(order_ids: list[int]) -> dict[int, OrderConfirmation]:
    """What the confirmation emails of these orders say, for those still CONFIRMED: the
    orders app's source for storefront.notifications.confirmations (set in apps.py)."""
    orders = _with_lines(
        Order.objects.filter(pk__in=order_ids, status=Order.Status.CONFIRMED).select_related(
            "placed_by"
        )
    )
    return {
        order.pk: OrderConfirmation(
            order_id=order.pk,
            recipient=order.email or (order.placed_by.email if order.placed_by else ""),
            lines=[
                ConfirmationLine(
                    title=item.product.title,
                    quantity=item.quantity,
                    unit_price=item.unit_price,
                    line_total=item.line_total,
                )
                for item in order.items.all()
            ],
            total=order.total_amount,
        )
        for order in orders
    }


def order_counts_by_status() -> dict[str, int]:
    """How many orders are in each status, every status named (0 when none)."""
    counts = dict.fromkeys(Order.Status.values, 0)
    counts.update(Order.objects.values_list("status").annotate(n=Count("id")).order_by())
    return counts
