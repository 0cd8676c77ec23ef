from smtplib import SMTPException

from celery import shared_task
from django.db import DatabaseError

from storefront.notifications.services import order_email_drain, order_email_send


@shared_task(
    autoretry_for=(SMTPException, OSError, DatabaseError),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def send_order_email(order_email_id: int) -> str:
    """Sends one order confirmation; safe to run twice (the outbox row records SENT)."""
    return order_email_send(order_email_id=order_email_id).status


@shared_task
def drain_order_emails() -> int:
    """Periodic (celery beat): sends what the on-commit publish or the retries left behind."""
    return order_email_drain()
