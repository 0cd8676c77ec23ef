from celery import shared_task

from storefront.inventory.services import stock_keys_purge


@shared_task
def purge_stock_write_keys() -> int:
    """Periodic (celery beat): forgets stock writes' Idempotency-Keys past
    IDEMPOTENCY_KEY_TTL_HOURS."""
    return stock_keys_purge()
