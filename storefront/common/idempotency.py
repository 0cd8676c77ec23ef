"""`Idempotency-Key`: a retried write answers what the first one wrote instead of writing again.

One protocol for every write that takes a key. The key is claimed by inserting it, unique per
owner (the authenticated user; anonymous clients share one namespace), in the write's own
transaction and before the write: a concurrent request with the same key waits on the unique
index until the first one commits (then it replays the first one's result) or rolls back (then
it writes). The same key with another request, or on another operation, is a 409. POST /orders/
runs this protocol inside its single SQL call (orders_place, in orders_idempotencykey); every
other write runs it through `idempotent()`, in common_idempotentrequest.

In a view: `idempotency_key(request)` reads the header, the service calls `idempotent()`, and a
replayed answer carries `REPLAYED_HEADERS`; `KEY_PARAMETER` and `KEY_REUSED_EXAMPLE` document it.
"""

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from storefront.common.errors import ConflictError, error_example
from storefront.common.models import IdempotentRequest

KEY_HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = 255
REPLAYED_HEADERS = {"Idempotent-Replayed": "true"}
KEY_REUSED = "This Idempotency-Key was already used with a different request."
KEY_EXPIRED = "This Idempotency-Key expired while the request ran; retry it."

KEY_PARAMETER = OpenApiParameter(
    KEY_HEADER,
    str,
    OpenApiParameter.HEADER,
    description="Client-chosen unique key (1-255 printable ASCII characters).",
)
KEY_REUSED_EXAMPLE = error_example("Idempotency-Key reused", "conflict", KEY_REUSED)


class KeyReused(ConflictError):
    default_detail = KEY_REUSED


class KeyExpired(ConflictError):
    default_detail = KEY_EXPIRED


T = TypeVar("T")

_CLAIM = (
    f"INSERT INTO {IdempotentRequest._meta.db_table} (owner_id, key, fingerprint, created_at) "
    "VALUES (%s, %s, %s, %s) ON CONFLICT (owner_id, key) DO NOTHING RETURNING id"
)


@dataclass(frozen=True)
class Idempotent(Generic[T]):
    result: T
    # True when a retry with the key answered what an earlier request wrote.
    replayed: bool


def idempotency_key(request: Request) -> str | None:
    """The request's `Idempotency-Key`, None without one; a 400 when it is malformed."""
    key = request.headers.get(KEY_HEADER)
    if key is None:
        return None
    if not 0 < len(key) <= KEY_MAX_LENGTH or not (key.isascii() and key.isprintable()):
        raise ValidationError({KEY_HEADER: ["Must be 1 to 255 printable ASCII characters."]})
    return key


def fingerprint(request: Mapping[str, Any]) -> str:
    """sha256 of a request's normalised content (keys sorted; decimals and other non-JSON
    values by their str())."""
    text = json.dumps(request, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def idempotent(
    *,
    key: str | None,
    owner_id: int | None,
    operation: str,
    request: Mapping[str, Any],
    write: Callable[[], T],
    dump: Callable[[T], Any],
    load: Callable[[Any], T],
) -> Idempotent[T]:
    """Runs `write()` once per (owner, key), in a new durable transaction with the key's claim
    (without a key, in the caller's transaction if there is one).

    `operation` names the write and `request` is its input: with them the key's first use is
    recognised. `dump(result)` is what the key keeps (JSON, not None: typically the id of what
    was written) and `load(kept)` rebuilds the answer for a retry. Without a key, `write()` just
    runs in its transaction. ConflictError (409) when the key was used for another request.
    """
    if key is None:  # the caller's transaction (an admin form's) or its own
        with transaction.atomic():
            return Idempotent(write(), replayed=False)
    printed = fingerprint({"operation": operation, "request": request})
    with transaction.atomic(durable=True):
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM, [owner_id, key, printed, timezone.now()])
            claimed = cursor.fetchone()
        if claimed is not None:
            result = write()
            kept = dump(result)
            assert kept is not None, "a NULL result marks a key whose write is under way"
            IdempotentRequest.objects.filter(pk=claimed[0]).update(result=kept)
            return Idempotent(result, replayed=False)
    earlier = IdempotentRequest.objects.filter(owner_id=owner_id, key=key).first()
    if earlier is None:  # past its TTL, purged since the claim above found it
        raise KeyExpired
    if earlier.fingerprint != printed:
        raise KeyReused
    return Idempotent(load(earlier.result), replayed=True)


def keys_purge(
    model: type[models.Model], *, older_than: timedelta | None = None, batch_size: int = 10_000
) -> int:
    """Deletes the keys of `model` (a table of keys with `created_at`) older than `older_than`
    (IDEMPOTENCY_KEY_TTL_HOURS by default); returns how many. A retry after this long writes
    again.

    In batches, each its own short transaction, so a large backlog never holds many row locks
    (or one long transaction) at once. Periodic: celery beat (config/celery_app.py).
    """
    if older_than is None:
        older_than = timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    expired = model._default_manager.filter(created_at__lt=timezone.now() - older_than)
    purged = 0
    while True:
        with transaction.atomic(durable=True):
            batch = list(expired.order_by("pk").values_list("pk", flat=True)[:batch_size])
            deleted, _ = model._default_manager.filter(pk__in=batch).delete()
        purged += deleted
        if len(batch) < batch_size:
            return purged
