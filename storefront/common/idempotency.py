"""`Idempotency-Key`, one rule for every write that takes one (placing an order, staff stock
writes): the header's format, the request's fingerprint, the conflict of a reused key, and the
hourly purge. Each app keeps its keys in a table of its own, claimed in the write's transaction.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from storefront.common.errors import ConflictError

MAX_LENGTH = 255

HEADER_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Client-chosen unique key (1-255 printable ASCII characters).",
)
# The header of an answer that an earlier request with the same key produced.
REPLAYED_HEADERS = {"Idempotent-Replayed": "true"}


class KeyReused(ConflictError):
    default_detail = "This Idempotency-Key was already used with a different request."


class KeyExpired(ConflictError):
    default_detail = "This Idempotency-Key expired while the request ran; retry it."


def idempotency_key(request: Request) -> str | None:
    """The request's `Idempotency-Key`, None without one; a malformed one is a 400."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 0 < len(key) <= MAX_LENGTH or not (key.isascii() and key.isprintable()):
        raise ValidationError({"Idempotency-Key": ["Must be 1 to 255 printable ASCII characters."]})
    return key


def fingerprint(request: Mapping[str, Any]) -> str:
    """sha256 of the normalised request (JSON-serialisable), so that a key reused with another
    body is told apart. Include the user: another client reusing a key gets a 409."""
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()


def keys_purge(
    keys: models.QuerySet, *, older_than: timedelta | None = None, batch_size: int = 10_000
) -> int:
    """Deletes the keys (a queryset of a model with `created_at`) older than `older_than`
    (IDEMPOTENCY_KEY_TTL_HOURS by default); returns how many.

    In batches, each its own short transaction, so a large backlog never holds many row locks
    (or one long transaction) at once. Periodic: celery beat (config/celery_app.py).
    """
    if older_than is None:
        older_than = timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    expired = keys.filter(created_at__lt=timezone.now() - older_than)
    purged = 0
    while True:
        with transaction.atomic(durable=True):
            batch = list(expired.order_by("pk").values_list("pk", flat=True)[:batch_size])
            deleted, _ = keys.model.objects.filter(pk__in=batch).delete()
        purged += deleted
        if len(batch) < batch_size:
            return purged
