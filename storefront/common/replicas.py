"""Which PostgreSQL server a read goes to: the one rule, and the router that applies it.

The rule: a GET handler decorated with `@lag_tolerant` reads the catalog through a read
replica (`DATABASE_REPLICA_URLS`), when one is configured, answering and lagging less than
`DATABASE_REPLICA_MAX_LAG_SECONDS`. Everything else reads the primary: every write, every order,
authentication, whatever runs inside a transaction, and stock: the quantities a response shows,
and whether each product an `in_stock` search shows is in stock, are read on the primary
(`django.db.connection`) even inside a lag-tolerant handler, so what a response shows of stock
is exact at commit whatever a replica lags (docs/scaling.md).

A replica that refuses connections, fails a query or lags too far is skipped: the handler runs
again on the next replica, then on the primary, within the same request. Each process
remembers a replica's state for a second (`CHECK_INTERVAL`) before asking it again.
"""

import functools
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

logger = logging.getLogger(__name__)

CHECK_INTERVAL = 1.0
# Primary-only apps: a token or session must work the moment it is created.
PRIMARY_ONLY_APPS = frozenset({"auth", "authtoken", "sessions", "contenttypes"})

# Seconds the replica is behind: 0 when it has replayed all it received (an idle primary sends
# nothing, and the last replay's age would grow without any lag) or is no standby at all. A
# standby cut off from its primary also reads 0: that shows on the primary (pg_stat_replication).
LAG_SQL = """
    SELECT CASE
        WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
        THEN 0
        ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)
    END
"""

_read_alias: ContextVar[str] = ContextVar("read_alias", default=DEFAULT_DB_ALIAS)


class ReplicaRouter:
    """Reads the ORM makes go where `lag_tolerant` points them (the primary by default); writes
    and migrations always go to the primary."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        if model._meta.app_label in PRIMARY_ONLY_APPS:
            return DEFAULT_DB_ALIAS
        return _read_alias.get()

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # one database, copied

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


def read_connection() -> BaseDatabaseWrapper:
    """The connection for a lag-tolerant read in raw SQL: the replica the handler runs on, else
    the primary."""
    return connections[_read_alias.get()]


def replica_aliases() -> list[str]:
    return list(settings.DATABASE_REPLICAS)


class ReplicaUnavailable(Exception):
    """A query on a replica failed for want of the server (not of the query)."""


@dataclass
class ReplicaState:
    usable: bool = True
    detail: str = "ok"
    checked_at: float = float("-inf")


_states: dict[str, ReplicaState] = {}
_states_lock = threading.Lock()
_rotation = itertools.count()


def replica_check(alias: str) -> ReplicaState:
    """Asks the replica how far behind it is, now, and records the answer for this process.

    A connection this thread kept may have died with a server since restarted: a failure on one
    is tried again on a new connection before the replica counts as down."""
    replica = connections[alias]
    attempts = 2 if replica.connection is not None else 1
    for attempt in range(1, attempts + 1):
        try:
            with replica.cursor() as cursor:
                cursor.execute(LAG_SQL)
                (lag,) = cursor.fetchone()
            break
        except (OperationalError, InterfaceError) as error:
            replica.close()
            if attempt == attempts:
                return _record(alias, ReplicaState(False, f"down: {error.__class__.__name__}"))
    too_far = lag > settings.DATABASE_REPLICA_MAX_LAG_SECONDS
    detail = f"lagging: {lag:.1f} s" if too_far else "ok"
    return _record(alias, ReplicaState(not too_far, detail))


def replica_states() -> dict[str, str]:
    """Each replica's state as `/readyz` reports it, checked now."""
    return {alias: replica_check(alias).detail for alias in replica_aliases()}


def _record(alias: str, state: ReplicaState) -> ReplicaState:
    state.checked_at = time.monotonic()
    with _states_lock:
        previous = _states.get(alias)
        _states[alias] = state
    if previous is None or previous.detail != state.detail:
        level = logging.INFO if state.usable else logging.WARNING
        logger.log(level, "read replica state", extra={"replica": alias, "state": state.detail})
    return state


def _usable(alias: str) -> bool:
    state = _states.get(alias)
    if state is None or time.monotonic() - state.checked_at >= CHECK_INTERVAL:
        state = replica_check(alias)
    return state.usable


def _candidates() -> Iterator[str]:
    """The usable replicas, a different one first on each call, then the primary."""
    replicas = replica_aliases()
    if replicas and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        start = next(_rotation) % len(replicas)
        for alias in replicas[start:] + replicas[:start]:
            if _usable(alias):
                yield alias
    yield DEFAULT_DB_ALIAS


def _fail_as_unavailable(alias: str) -> Callable[..., Any]:
    """An execute wrapper telling a failed query on the replica from one on the primary."""

    def wrapper(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        try:
            return execute(sql, params, many, context)
        except (OperationalError, InterfaceError) as error:
            raise ReplicaUnavailable(alias) from error

    return wrapper


P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")


def lag_tolerant(handler: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Runs a view's read-only handler with its catalog reads on a replica (module docstring)."""

    @functools.wraps(handler)
    def on_replica(view: S, *args: P.args, **kwargs: P.kwargs) -> R:
        for alias in _candidates():
            if alias == DEFAULT_DB_ALIAS:
                return handler(view, *args, **kwargs)
            replica = connections[alias]
            try:
                replica.ensure_connection()
            except (OperationalError, InterfaceError) as error:
                _record(alias, ReplicaState(False, f"down: {error.__class__.__name__}"))
                continue
            token = _read_alias.set(alias)
            try:
                with replica.execute_wrapper(_fail_as_unavailable(alias)):
                    return handler(view, *args, **kwargs)
            except ReplicaUnavailable:
                # This request reads elsewhere; whether the replica is down, or this thread's
                # connection was only left over from a server since restarted, a new one says.
                replica.close()
                replica_check(alias)
            finally:
                _read_alias.reset(token)
        raise AssertionError("unreachable: the primary is always a candidate")

    return on_replica
