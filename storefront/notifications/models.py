from django.db import models


class OrderEmail(models.Model):
    """Transactional outbox row for an order's confirmation email.

    Written in the same transaction as the CONFIRMED order (sql/outbox.sql, called by the
    orders app's placement), so the email cannot be lost (broker down) nor sent for an order
    that rolled back. The row also records that the email went out, which makes duplicated or
    retried tasks harmless.
    """

    class Status(models.TextChoices):
        PENDING = "PENDING"
        SENT = "SENT"
        SKIPPED = "SKIPPED"  # no address to send to, or the order was cancelled first
        FAILED = "FAILED"  # gave up after settings.ORDER_EMAIL_MAX_ATTEMPTS

    # The order's id, no foreign key: notifications depends on no other app's models. What the
    # email says comes from the orders app through storefront.notifications.confirmations.
    order_id = models.BigIntegerField(unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    recipient = models.EmailField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped by every attempt: the drain only picks rows nobody has touched for a while.
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["updated_at"],
                name="orderemail_pending_idx",
                condition=models.Q(status="PENDING"),
            ),
        ]

    def __str__(self) -> str:
        return f"Email for order {self.order_id} ({self.status})"
