"""Fixtures for the cross-cutting reliability tests: live servers on their own PostgreSQL data.

These tests talk to real processes (gunicorn, Celery, redis-server), so they cannot use
pytest-django's test database, which lives inside one connection's transaction. Instead one
session template database is migrated and seeded once, and every live stack gets a fresh copy
of it (CREATE DATABASE ... TEMPLATE, well under a second).
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.live import (
    CeleryBeat,
    CeleryWorker,
    Database,
    Gunicorn,
    RedisServer,
    app_env,
    live_database_prefix,
    manage,
)

SEED_ARGS = ["--reset", "--stores", "3", "--products", "500", "--inventory-per-store", "200"]

# Two more accounts next to the seeded store-1 manager: staff of store 2, and a plain shopper.
EXTRA_USERS = """
from rest_framework.authtoken.models import Token
from django.contrib.auth.models import User
from storefront.stores.models import Store
for name, store in (("store2-manager", 2), ("shopper", None)):
    user = User.objects.create_user(name, f"{name}@example.com", "pw-" + name)
    if store:
        Store.objects.get(pk=store).staff.add(user)
    print(f"{name}={Token.objects.create(user=user).key}")
"""


@dataclass(frozen=True)
class Seeded:
    database: Database
    tokens: dict[str, str]  # username -> API token


@dataclass
class LiveStack:
    """One gunicorn (2 workers) on its own database and private Redis."""

    server: Gunicorn
    database: Database
    redis: RedisServer
    tokens: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.base_url

    def auth(self, user: str = "store1-manager") -> dict[str, str]:
        return {"Authorization": f"Token {self.tokens[user]}"}


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("reliability")


@pytest.fixture(scope="session")
def seeded_template(workdir) -> Seeded:
    """Migrated and seeded once per session; only ever copied, never served from."""
    prefix = live_database_prefix()
    template = Database(os.environ["DATABASE_URL"], f"{prefix}_tpl").create()
    # A Redis of the seed's own (it bumps the catalog version): only the database is copied,
    # and the live processes stay off the suite's Redis, which may hold other data.
    redis = RedisServer(workdir).start()
    env = app_env(database_url=template.url, redis_url=redis.url(), workdir=workdir)
    try:
        manage("migrate", "--no-input", env=env)
        seeded = manage("seed_data", *SEED_ARGS, "--no-progress", env=env)
        tokens = {"store1-manager": re.search(r"API token: (\w+)", seeded).group(1)}
        for line in manage("shell", "-c", EXTRA_USERS, env=env).splitlines():
            user, _, token = line.partition("=")
            tokens[user] = token
        yield Seeded(database=template, tokens=tokens)
    finally:
        redis.close()
        template.drop()


@pytest.fixture
def fresh_database(seeded_template):
    """A factory of copies of the seeded template, each dropped when the test ends."""
    prefix = live_database_prefix()
    created: list[Database] = []

    def make(tag: str) -> Database:
        copy = Database(os.environ["DATABASE_URL"], f"{prefix}_{tag}")
        created.append(copy.create(template=seeded_template.database))
        return copy

    yield make
    for database in created:
        database.drop()


@pytest.fixture
def redis_server(workdir):
    """A factory of private redis-servers, all stopped when the test ends."""
    started: list[RedisServer] = []

    def make() -> RedisServer:
        server = RedisServer(workdir)
        started.append(server)
        return server.start()

    yield make
    for server in started:
        server.close()


@pytest.fixture(scope="session")
def live(seeded_template, workdir) -> LiveStack:
    """The shared live API for tests that do not break anything (fuzzing, bad input, auth)."""
    prefix = live_database_prefix()
    database = Database(os.environ["DATABASE_URL"], f"{prefix}_shared")
    database.create(template=seeded_template.database)
    redis = RedisServer(workdir).start()
    # No practical autocomplete rate limit here, so fuzzing explores its answers, not 429s
    # (tests/test_faults.py and the search app's tests cover the limit itself).
    env = app_env(
        database_url=database.url,
        redis_url=redis.url(0),
        workdir=workdir,
        SUGGEST_RATE_LIMIT="1000000",
    )
    server = Gunicorn(env, workdir)
    try:
        server.start()
        yield LiveStack(server, database, redis, seeded_template.tokens)
    finally:
        server.stop()
        redis.close()
        database.drop()


@pytest.fixture
def start_gunicorn(workdir):
    """A factory: start_gunicorn(env, workers=2) -> a started Gunicorn, stopped after the test."""
    started: list[Gunicorn] = []

    def make(env: dict[str, str], *, workers: int = 2) -> Gunicorn:
        server = Gunicorn(env, workdir, workers=workers)
        started.append(server)
        return server.start()

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def start_worker(workdir):
    """A factory: start_worker(env) -> a started CeleryWorker, stopped after the test."""
    started: list[CeleryWorker] = []

    def make(env: dict[str, str], *, concurrency: int = 1) -> CeleryWorker:
        worker = CeleryWorker(env, workdir, concurrency=concurrency)
        started.append(worker)
        return worker.start()

    yield make
    for worker in started:
        worker.stop()


@pytest.fixture
def start_beat(workdir):
    """A factory: start_beat(env) -> a started CeleryBeat, stopped after the test."""
    started: list[CeleryBeat] = []

    def make(env: dict[str, str]) -> CeleryBeat:
        beat = CeleryBeat(env, workdir)
        started.append(beat)
        return beat.start()

    yield make
    for beat in started:
        beat.stop()
