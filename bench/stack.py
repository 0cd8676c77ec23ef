"""Starting and stopping the production-shaped stack, and accounting for its CPU time."""

import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class StackConfig:
    port: int
    env: dict[str, str]
    log_dir: Path
    # gunicorn settings over gunicorn.conf.py's, e.g. ("--workers=4",): the server shape tried.
    gunicorn_overrides: tuple[str, ...] = ()
    celery: bool = True  # a Celery worker (with beat) beside gunicorn


@dataclass(frozen=True)
class ServerShape:
    """What the running gunicorn was configured with, as its master reports it."""

    workers: int
    threads: int
    worker_class: str  # gunicorn's name: gthread, or sync (one request at a time per process)


@dataclass
class Stack:
    config: StackConfig
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    shape: ServerShape | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.config.port}"

    @property
    def gunicorn_log(self) -> Path:
        return self.config.log_dir / "gunicorn.log"

    @property
    def application_name(self) -> str:
        return f"bench-gunicorn-{self.config.port}"

    def start(self, *, email_backend: str) -> None:
        env = {**self.config.env, "EMAIL_BACKEND": email_backend}
        self.config.log_dir.mkdir(parents=True, exist_ok=True)
        self.shape = None
        if self.config.celery:
            self.processes["celery"] = _spawn(
                [
                    str(VENV_BIN / "celery"), "-A", "config", "worker", "--beat",
                    "--loglevel=WARNING", "--concurrency=2", "--without-gossip",
                    "--without-mingle", "--schedule",
                    str(self.config.log_dir / "celerybeat-schedule"),
                ],
                env=env,
                log=self.config.log_dir / "celery.log",
            )  # fmt: skip
        log_offset = self.gunicorn_log.stat().st_size if self.gunicorn_log.exists() else 0
        # Production's gunicorn.conf.py, with the keep-alive of every run measured here (30 s,
        # gunicorn's default is 2): connections wrk parks once a budget is issued idle until the
        # budget's last response.
        self.processes["gunicorn"] = _spawn(
            [
                str(VENV_BIN / "gunicorn"), "--config", "gunicorn.conf.py",
                "config.wsgi:application", "--bind", f"127.0.0.1:{self.config.port}",
                "--keep-alive", "30", *self.config.gunicorn_overrides,
            ],
            # Its database connections named after it in pg_stat_activity (libpq's PGAPPNAME).
            env={**env, "PGAPPNAME": self.application_name},
            log=self.gunicorn_log,
        )  # fmt: skip
        self.wait_ready(log_offset)

    def wait_ready(self, log_offset: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        last_error = ""
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}; see its log")
            try:
                with urllib.request.urlopen(f"{self.base_url}/readyz", timeout=2) as response:
                    self.shape = self.shape or self._gunicorn_shape(log_offset)
                    if response.status == 200 and self.shape and self._workers_booted():
                        return
            except (urllib.error.URLError, OSError) as exc:
                last_error = str(exc)
            time.sleep(0.3)
        raise RuntimeError(f"stack not ready after {timeout:.0f}s: {last_error}")

    def _gunicorn_shape(self, log_offset: int) -> ServerShape | None:
        """Asked of the master through its control socket, named in its log, once it listens."""
        with self.gunicorn_log.open("rb") as log:
            log.seek(log_offset)
            started = log.read().decode(errors="replace")
        socket_path = re.search(r"Control socket listening at (\S+)", started)
        worker_class = re.search(r"Using worker: (\S+)", started)
        if socket_path is None or worker_class is None:
            return None
        shown = subprocess.run(
            [str(VENV_BIN / "gunicornc"), "-s", socket_path[1], "-c", "show config", "-j"],
            capture_output=True, text=True, check=True, timeout=10,
        )  # fmt: skip
        config = json.loads(shown.stdout)
        return ServerShape(config["workers"], config["threads"], worker_class[1])

    def _workers_booted(self) -> bool:
        assert self.shape is not None
        return len(children(self.processes["gunicorn"].pid)) >= self.shape.workers

    def stop(self) -> None:
        for name in ("gunicorn", "celery"):
            process = self.processes.pop(name, None)
            if process is None or process.poll() is not None:
                continue
            # Each server runs in its own process group: this ends exactly what we started.
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def pids(self) -> dict[str, list[int]]:
        return {
            name: [process.pid, *children(process.pid)]
            for name, process in self.processes.items()
            if process.poll() is None
        }


def _spawn(command: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def children(pid: int) -> list[int]:
    """Descendants of pid (gunicorn workers, celery pool processes)."""
    found: list[int] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        path = Path(f"/proc/{parent}/task/{parent}/children")
        try:
            kids = [int(value) for value in path.read_text().split()]
        except OSError:
            continue
        found.extend(kids)
        frontier.extend(kids)
    return found


def process_ticks(pid: int) -> int:
    """utime + stime of one process, in clock ticks (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    # After the ")" closing comm, utime and stime are the 12th and 13th fields.
    return int(fields[11]) + int(fields[12])


def processes_named(prefix: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if comm.startswith(prefix):
            pids.append(int(entry.name))
    return pids


def machine_busy_ticks() -> tuple[int, int]:
    """(busy, total) ticks over all CPUs since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return total - idle, total


class CpuSampler:
    """Tracks the CPU time of changing process groups while a load runs.

    `discover()` returns {group: pids} and is called every `interval` seconds from a thread,
    so processes that start and end during the run (database backends of the raw-SQL floor)
    are still counted; a process that vanishes keeps its last reading, none goes negative.
    """

    def __init__(self, discover: Callable[[], dict[str, list[int]]], interval: float = 0.2):
        self.discover = discover
        self.interval = interval
        self.baseline: dict[int, int] = {}
        self.latest: dict[int, int] = {}
        self.group_of: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self, *, first: bool = False) -> None:
        for group, pids in self.discover().items():
            for pid in pids:
                ticks = process_ticks(pid)
                if not ticks and pid not in self.latest:
                    continue
                self.group_of.setdefault(pid, group)
                # A process first seen mid-run started during it: all its time is ours.
                self.baseline.setdefault(pid, ticks if first else 0)
                self.latest[pid] = max(ticks, self.latest.get(pid, 0))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> "CpuSampler":
        self.started = time.monotonic()
        self.machine_before = machine_busy_ticks()
        self._sample(first=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.window_s = time.monotonic() - self.started
        self.machine_after = machine_busy_ticks()

    def seconds(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for pid, group in self.group_of.items():
            used = (self.latest[pid] - self.baseline[pid]) / CLOCK_TICKS
            totals[group] = totals.get(group, 0.0) + used
        totals["machine"] = (self.machine_after[0] - self.machine_before[0]) / CLOCK_TICKS
        return totals
