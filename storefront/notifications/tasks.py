from celery import shared_task

from storefront.notifications.services import order_emails_drain, order_emails_send_pending


@shared_task
def send_pending_order_emails() -> int:
    """Published by order_emails_dispatch() after orders commit: sends every new email."""
    return order_emails_send_pending()


@shared_task
def drain_order_emails() -> int:
    """Periodic (celery beat): retries failed emails and sends those no task was published for."""
    return order_emails_drain()
