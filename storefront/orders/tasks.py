from celery import shared_task

from storefront.orders.services import idempotency_keys_purge


@shared_task
def purge_idempotency_keys() -> int:
    """Periodic (celery beat): forgets Idempotency-Keys past IDEMPOTENCY_KEY_TTL_HOURS."""
    return idempotency_keys_purge()
