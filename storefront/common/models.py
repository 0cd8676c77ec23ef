from django.conf import settings
from django.db import models


class IdempotentRequest(models.Model):
    """A write made under an `Idempotency-Key` (storefront.common.idempotency): what it was, and
    what it produced, so that a retry with the same key gets the same answer.

    Keys belong to the user who sent them (anonymous clients share one namespace: NULLS NOT
    DISTINCT makes NULL owners collide like users). POST /orders/ keeps its keys in
    orders_idempotencykey, claimed inside orders_place's single SQL call.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="idempotent_requests",
    )
    key = models.CharField(max_length=255)
    # sha256 of the operation and its normalised input: a reused key with another body, or on
    # another operation, is detected.
    fingerprint = models.CharField(max_length=64)
    # What the write returned, as its caller chose to store it (e.g. the id of what it created).
    # Null only inside the writing transaction.
    result = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "key"], nulls_distinct=False, name="idempotentrequest_owner_key"
            ),
        ]

    def __str__(self) -> str:
        return self.key
