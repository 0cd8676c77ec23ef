from celery import shared_task

from storefront.common.idempotency import keys_purge
from storefront.common.models import IdempotentRequest


@shared_task
def purge_idempotent_requests() -> int:
    """Periodic (celery beat): forgets the keys of idempotent() writes past
    IDEMPOTENCY_KEY_TTL_HOURS."""
    return keys_purge(IdempotentRequest)
