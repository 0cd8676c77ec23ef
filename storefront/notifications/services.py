"""Order confirmation emails through a transactional outbox (see docs/orders.md)."""

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from storefront.notifications.models import OrderEmail
from storefront.orders.models import Order

logger = logging.getLogger(__name__)


def order_email_create(*, order: Order) -> OrderEmail:
    """Records that `order` needs its confirmation email. Call inside the order's transaction.

    The task is published only once that transaction commits: a rolled-back order never
    produces a message, and a committed one always has its outbox row.
    """
    outbox = OrderEmail.objects.create(order=order)
    transaction.on_commit(partial(order_email_enqueue, order_email_id=outbox.pk), robust=True)
    return outbox


def order_email_enqueue(*, order_email_id: int) -> bool:
    """Publishes the send task once, without retrying; False when the broker is unreachable."""
    from storefront.notifications.tasks import send_order_email  # the task module imports us

    try:
        send_order_email.apply_async(args=[order_email_id], retry=False)
    except Exception:
        # Runs after commit: the order already succeeded and must be answered as such. The
        # row stays PENDING and the periodic drain sends it once the broker is back.
        logger.warning(
            "order email not enqueued, left to the outbox drain",
            exc_info=True,
            extra={"event": "order_email_enqueue_failed", "order_email_id": order_email_id},
        )
        return False
    return True


def order_email_send(*, order_email_id: int) -> OrderEmail:
    """Sends one confirmation email unless it was already handled; raises if sending failed.

    The outbox row stays locked while the email is handed to the backend, so a duplicated
    task waits and then finds it SENT. A crash between the backend accepting the email and
    the commit could still repeat it: delivery is at least once, duplicates need a crash.
    """
    error: Exception | None = None
    with transaction.atomic(durable=True):
        outbox = (
            OrderEmail.objects.select_for_update(of=("self",))
            .select_related("order__placed_by")
            .get(pk=order_email_id)
        )
        if outbox.status != OrderEmail.Status.PENDING:
            _log(outbox, "order email already handled, nothing to do")
            return outbox
        order = outbox.order
        outbox.attempts += 1
        outbox.recipient = order.email or getattr(order.placed_by, "email", "")
        if order.status != Order.Status.CONFIRMED or not outbox.recipient:
            outbox.status = OrderEmail.Status.SKIPPED
            outbox.last_error = "order no longer confirmed" if outbox.recipient else "no address"
        else:
            try:
                _send_confirmation(order=order, recipient=outbox.recipient)
            except Exception as exc:  # whatever the backend raised: record it, retry later
                error = exc
                outbox.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                if outbox.attempts >= settings.ORDER_EMAIL_MAX_ATTEMPTS:
                    outbox.status = OrderEmail.Status.FAILED
            else:
                outbox.status = OrderEmail.Status.SENT
                outbox.sent_at = timezone.now()
        outbox.save()
    _log(outbox, f"order email {outbox.status.lower()}")
    if error is not None and outbox.status == OrderEmail.Status.PENDING:
        raise error
    return outbox


def order_email_drain(*, older_than: timedelta | None = None, limit: int = 100) -> int:
    """Sends PENDING emails nobody has touched for `older_than`; returns how many it tried.

    Picks up what the on-commit publish could not deliver (broker down) and what the task
    gave up retrying. Newer rows are left alone: their task is probably on its way.
    """
    if older_than is None:
        older_than = timedelta(seconds=settings.ORDER_EMAIL_DRAIN_AFTER_SECONDS)
    stale_ids = list(
        OrderEmail.objects.filter(
            status=OrderEmail.Status.PENDING, updated_at__lte=timezone.now() - older_than
        )
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )
    for order_email_id in stale_ids:
        try:
            order_email_send(order_email_id=order_email_id)
        except Exception:  # already recorded on the row and logged; carry on with the rest
            continue
    return len(stale_ids)


def _send_confirmation(*, order: Order, recipient: str) -> None:
    items = list(order.items.select_related("product"))
    lines = [
        f"{item.quantity} x {item.product.title} at {item.unit_price} = {item.line_total}"
        for item in items
    ]
    total = f"Total: {order.total_amount}"
    body = "\n".join([f"Thank you, your order #{order.pk} is confirmed.", "", *lines, "", total])
    send_mail(
        subject=f"Order #{order.pk} confirmed",
        message=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[recipient],
    )


def _log(outbox: OrderEmail, message: str) -> None:
    logger.info(
        message,
        extra={
            "event": "order_email",
            "order_email_id": outbox.pk,
            "order_id": outbox.order_id,
            "status": outbox.status,
            "attempts": outbox.attempts,
            "recipient": outbox.recipient,
            "error": outbox.last_error or None,
        },
    )
