from django.db import models

from storefront.orders.models import Order


class OrderEmail(models.Model):
    """Transactional outbox row for an order's confirmation email.

    Created in the same transaction as the CONFIRMED order, so the email cannot be lost
    (broker down) nor sent for an order that rolled back. The row also records that the
    email went out, which makes duplicated or retried tasks harmless.
    """

    class Status(models.TextChoices):
        PENDING = "PENDING"
        SENT = "SENT"
        SKIPPED = "SKIPPED"  # no address to send to, or the order was cancelled first
        FAILED = "FAILED"  # gave up after settings.ORDER_EMAIL_MAX_ATTEMPTS

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="confirmation_email")
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
