import os

from celery import Celery

# Connects the signals that carry a request's id into the tasks it publishes (task headers).
import storefront.common.request_id  # noqa: F401

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("storefront")
# Every CELERY_* Django setting configures Celery (CELERY_BROKER_URL -> broker_url, ...).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Retries confirmation emails whose sending failed and sends those no task was published
    # for (broker down) or whose task died: the transactional outbox's safety net.
    "drain-order-emails": {
        "task": "storefront.notifications.tasks.drain_order_emails",
        "schedule": 30.0,
    },
    "purge-idempotency-keys": {
        "task": "storefront.orders.tasks.purge_idempotency_keys",
        "schedule": 3600.0,
    },
    "purge-idempotent-requests": {
        "task": "storefront.common.tasks.purge_idempotent_requests",
        "schedule": 3600.0,
    },
}
