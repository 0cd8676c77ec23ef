"""Order confirmation emails through a transactional outbox (see docs/orders.md).

The orders app writes a PENDING row in the order's transaction (sql/outbox.sql); once the order
has committed it asks for a send task (`order_emails_dispatch`), and one task sends every
waiting email in batches. Many orders committing close together share one publish and one task,
instead of one of each per email. What each email says comes from the orders app through
storefront.notifications.confirmations.
"""

import contextlib
import functools
import logging
from datetime import timedelta

import redis
from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from storefront.common.logging import masked_addresses
from storefront.common.sql import column_field
from storefront.notifications.confirmations import OrderConfirmation, order_confirmations
from storefront.notifications.models import OrderEmail

logger = logging.getLogger(__name__)

# Present from the publish of a send task until that task starts: commits in between need no
# task of their own. The expiry only matters if that task never starts (lost message, broker
# down at publish time): a commit after it publishes again.
DISPATCH_KEY = "notifications:order-emails:dispatch"
DISPATCH_KEY_TTL = 60
# Rows claimed, locked and sent per transaction and per email backend connection.
BATCH_SIZE = 100
# What an attempt changes on a row.
_RECORDED_FIELDS = ("status", "recipient", "attempts", "last_error", "sent_at", "updated_at")


def order_emails_dispatch() -> bool:
    """Makes sure a send task will run. Call after a transaction that created PENDING outbox
    rows has committed (never before: the task could look for them before they exist).

    Publishes one `send_pending_order_emails` unless one is already queued and not started
    (Redis SET NX), so a burst of orders costs one publish. The task starts after
    ORDER_EMAIL_BATCH_WINDOW_MS, so the orders committed meanwhile share it. Without an answer
    from Redis it publishes anyway. Never raises: returns False when the publish failed (broker
    down), and the rows then wait for the periodic drain.
    """
    if not _dispatch_key_set():
        return True
    from storefront.notifications.tasks import send_pending_order_emails  # imports us

    try:
        window = settings.ORDER_EMAIL_BATCH_WINDOW_MS / 1000
        # None is Celery's own default (no countdown); celery-types only allows a float.
        send_pending_order_emails.apply_async(retry=False, countdown=window or None)  # type: ignore[arg-type]
    except Exception:
        # Runs after commit: the order already succeeded and must be answered as such. The
        # key stays until it expires, so an outage costs one failed publish a minute instead
        # of one per order; the drain sends what waits meanwhile.
        logger.warning(
            "order emails not enqueued, left to the outbox drain",
            exc_info=True,
            extra={"event": "order_email_enqueue_failed"},
        )
        return False
    return True


def order_emails_send_pending(*, batch_size: int = BATCH_SIZE) -> int:
    """Sends every PENDING email never attempted yet; returns how many rows it handled.

    What the dispatched task runs. Failures stay PENDING for the drain to retry.
    """
    # The key goes first. A commit whose SET found the key came before this DELETE, and its
    # row was committed before that SET (dispatch runs after the commit), so the queries
    # below, which start after the DELETE, see the row. A commit after the DELETE finds no
    # key and publishes a task of its own (or finds the key of another such commit, whose
    # task is queued). Deleting it after the queries would lose the emails of orders
    # committed in between.
    _dispatch_key_delete()
    return _send_in_batches(Q(attempts=0), batch_size=batch_size)


def order_emails_drain(*, older_than: timedelta | None = None, limit: int = 1000) -> int:
    """Sends PENDING emails nobody has touched for `older_than`; returns how many it tried.

    The periodic safety net: retries failed attempts, and sends what no task was published for
    (broker down) or whose task died. Newer rows are left alone: their task is on its way.
    """
    if older_than is None:
        older_than = timedelta(seconds=settings.ORDER_EMAIL_DRAIN_AFTER_SECONDS)
    stale = Q(updated_at__lte=timezone.now() - older_than)
    return _send_in_batches(stale, batch_size=BATCH_SIZE, limit=limit)


@functools.cache
def dispatch_redis() -> redis.Redis:
    """The Redis that holds the dispatch key (REDIS_URL), with the short socket timeouts: an
    outage must cost an order a warning, not a hang."""
    return redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT,
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
    )


def _dispatch_key() -> str:
    """DISPATCH_KEY under the cache's prefix (CACHE_KEY_PREFIX), like the cache's own keys:
    deployments, or test sessions, that share a Redis database keep apart."""
    return cache.make_key(DISPATCH_KEY)


def _dispatch_key_set() -> bool:
    """True when this caller set the dispatch key (or Redis could not say), so should publish."""
    try:
        return bool(dispatch_redis().set(_dispatch_key(), 1, nx=True, ex=DISPATCH_KEY_TTL))
    except redis.RedisError:
        logger.warning(
            "order email dispatch key unavailable; publishing anyway",
            exc_info=True,
            extra={"event": "order_email_dispatch_key_failed"},
        )
        return True


def _dispatch_key_delete() -> None:
    try:
        dispatch_redis().delete(_dispatch_key())
    except redis.RedisError:
        # Left in place, the key delays new tasks until it expires; the drain covers that gap.
        logger.warning(
            "order email dispatch key not deleted",
            exc_info=True,
            extra={"event": "order_email_dispatch_key_failed"},
        )


def _send_in_batches(where: Q, *, batch_size: int, limit: int | None = None) -> int:
    """Sends batch after batch of PENDING rows matching `where`, until a batch comes back short
    (nothing left that another worker does not hold) or `limit` rows were handled."""
    handled = 0
    while limit is None or handled < limit:
        size = batch_size if limit is None else min(batch_size, limit - handled)
        claimed = _send_batch(where, size=size)
        handled += claimed
        if claimed < size:
            break
    return handled


def _send_batch(where: Q, *, size: int) -> int:
    """Claims up to `size` rows and sends their emails over one backend connection.

    The rows stay locked (FOR UPDATE) from the claim until their outcomes commit, so a
    concurrent batch skips them (SKIP LOCKED) rather than waiting, and once committed they are
    no longer PENDING for anyone. A crash before the commit leaves the whole batch PENDING and
    the emails already handed to the backend go out again: at least once, duplicates only after
    a crash, at most one batch of them.
    """
    backend = get_connection()
    try:
        with transaction.atomic(durable=True):
            batch = list(
                OrderEmail.objects.select_for_update(skip_locked=True)
                .filter(where, status=OrderEmail.Status.PENDING)
                # Oldest first, along the partial index of PENDING rows: never a walk over
                # every SENT row, however stale the planner's statistics.
                .order_by("updated_at")[:size]
            )
            if not batch:
                return 0
            confirmations = order_confirmations([outbox.order_id for outbox in batch])
            for outbox in batch:
                _attempt(outbox, confirmation=confirmations.get(outbox.order_id), backend=backend)
            _record(batch)
    finally:
        _close(backend)
    for outbox in batch:
        _log(outbox, f"order email {outbox.status.lower()}")
    return len(batch)


def _attempt(
    outbox: OrderEmail, *, confirmation: OrderConfirmation | None, backend: BaseEmailBackend
) -> None:
    """Sends one row's email and records the outcome on the row (saved by the caller).

    `confirmation` is None when the order is no longer CONFIRMED (cancelled first)."""
    outbox.attempts += 1
    outbox.updated_at = timezone.now()  # _record() saves without auto_now
    if confirmation is None or not confirmation.recipient:
        outbox.status = OrderEmail.Status.SKIPPED
        outbox.last_error = "order no longer confirmed" if confirmation is None else "no address"
        return
    outbox.recipient = confirmation.recipient
    try:
        backend.open()  # once per batch: a no-op while the connection is up
        backend.send_messages([_confirmation_email(confirmation)])
    except Exception as exc:  # whatever the backend raised: recorded, retried by the drain
        # Anything escaping here would roll back the rows already sent in this batch.
        _close(backend)  # not reused after a failure: the next row opens a fresh connection
        outbox.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if outbox.attempts >= settings.ORDER_EMAIL_MAX_ATTEMPTS:
            outbox.status = OrderEmail.Status.FAILED
    else:
        outbox.status = OrderEmail.Status.SENT
        outbox.sent_at = outbox.updated_at


def _record(batch: list[OrderEmail]) -> None:
    """Saves the outcome of every row of `batch` in one round trip.

    One UPDATE per row, sent as one executemany (psycopg pipelines it). bulk_update() writes
    the same in one statement, but building its CASE expressions took about 1.5 ms of CPU per
    row, more than rendering and sending the email.
    """
    meta = OrderEmail._meta
    fields = [column_field(OrderEmail, name) for name in _RECORDED_FIELDS]
    _, pk_column = column_field(OrderEmail, meta.pk.name)
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(column)} = %s" for _, column in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(pk_column)} = %s"
    params = [
        [field.get_db_prep_save(getattr(row, field.attname), connection) for field, _ in fields]
        + [row.pk]
        for row in batch
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _confirmation_email(confirmation: OrderConfirmation) -> EmailMessage:
    order_id = confirmation.order_id
    lines = [
        f"{line.quantity} x {line.title} at {line.unit_price} = {line.line_total}"
        for line in confirmation.lines
    ]
    total = f"Total: {confirmation.total}"
    body = "\n".join([f"Thank you, your order #{order_id} is confirmed.", "", *lines, "", total])
    return EmailMessage(
        subject=f"Order #{order_id} confirmed",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[confirmation.recipient],
        headers={"X-Order-ID": str(order_id)},
    )


def _close(backend: BaseEmailBackend) -> None:
    # Closing a connection that already failed (or a QUIT the server answers badly) may raise;
    # the connection is dropped either way and must not undo what was sent.
    with contextlib.suppress(Exception):
        backend.close()


def _log(outbox: OrderEmail, message: str) -> None:
    logger.info(
        message,
        extra={
            "event": "order_email",
            "order_email_id": outbox.pk,
            "order_id": outbox.order_id,
            "status": outbox.status,
            "attempts": outbox.attempts,
            "recipient": masked_addresses(outbox.recipient),
            "error": masked_addresses(outbox.last_error) or None,
        },
    )
