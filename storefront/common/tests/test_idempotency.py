"""storefront.common.idempotency on its own: any write, replayed once per (owner, key)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from config.celery_app import app
from storefront.common import idempotency
from storefront.common.errors import ConflictError
from storefront.common.idempotency import fingerprint, idempotent, keys_purge
from storefront.common.models import IdempotentRequest
from storefront.common.tasks import purge_idempotent_requests

pytestmark = pytest.mark.django_db


class Writes:
    """A write that counts its runs and answers its run number."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self, key: str | None, owner_id: int | None = None, **request: object):
        def write() -> int:
            self.runs += 1
            return self.runs

        return idempotent(
            key=key,
            owner_id=owner_id,
            operation="count",
            request=request,
            write=write,
            dump=lambda run: {"run": run},
            load=lambda kept: kept["run"],
        )


def test_without_a_key_every_call_writes():
    writes = Writes()
    assert [writes(None).result, writes(None).result] == [1, 2]
    assert not IdempotentRequest.objects.exists()


def test_a_key_writes_once_then_replays_what_was_kept():
    writes = Writes()
    first, again = writes("k", n=1), writes("k", n=1)

    assert (first.result, first.replayed) == (1, False)
    assert (again.result, again.replayed) == (1, True)
    assert writes.runs == 1
    assert IdempotentRequest.objects.get().result == {"run": 1}


def test_keys_belong_to_their_owner_and_anonymous_callers_share_one_namespace():
    users = get_user_model().objects
    alice, bob = users.create_user("alice").pk, users.create_user("bob").pk
    writes = Writes()

    assert [writes("k", owner).replayed for owner in (alice, bob, None, alice, None)] == [
        False,
        False,
        False,
        True,
        True,
    ]
    assert writes.runs == 3


def test_the_same_key_with_another_request_is_a_conflict():
    writes = Writes()
    writes("k", n=1)
    with pytest.raises(ConflictError, match="different request"):
        writes("k", n=2)
    assert writes.runs == 1


def test_a_write_that_fails_frees_its_key():
    def failing() -> int:
        raise ValueError("refused")

    with pytest.raises(ValueError):
        idempotent(
            key="k", owner_id=None, operation="x", request={}, write=failing, dump=str, load=int
        )
    assert not IdempotentRequest.objects.exists()


def test_a_key_purged_while_its_retry_runs_is_a_conflict_not_an_error(monkeypatch):
    # The claim finds the key taken (no row inserted), then the purge removes it before the
    # retry reads what it kept.
    taken_then_purged = (
        "SELECT 1 FROM (SELECT %s::integer, %s::text, %s::text, %s::timestamptz) AS claim "
        "WHERE false"
    )
    monkeypatch.setattr(idempotency, "_CLAIM", taken_then_purged)
    with pytest.raises(ConflictError, match="expired"):
        Writes()("k")


def test_the_fingerprint_ignores_key_order_and_reads_decimals_as_text():
    from decimal import Decimal

    assert fingerprint({"a": 1, "b": Decimal("1.50")}) == fingerprint({"b": "1.50", "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})


def test_keys_past_their_ttl_are_purged_batch_after_batch(settings):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 24
    writes = Writes()
    for n in range(5):
        writes(f"old-{n}")
    writes("recent")
    IdempotentRequest.objects.exclude(key="recent").update(
        created_at=timezone.now() - timedelta(hours=25)
    )

    assert keys_purge(IdempotentRequest, batch_size=2) == 5
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["recent"]
    assert purge_idempotent_requests() == 0


def test_celery_beat_runs_the_purge_every_hour():
    [entry] = [e for e in app.conf.beat_schedule.values() if e["task"].endswith("requests")]
    assert entry["task"] == purge_idempotent_requests.name
    assert entry["task"] in app.tasks
    assert entry["schedule"] == 3600.0
