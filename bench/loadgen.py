"""The load generator: wrk (C, one epoll thread) driven by bench/replay.lua.

wrk costs a few microseconds of CPU per request, so on this 2-core machine nearly all CPU is
left to the server; its own CPU time is measured from the kernel's rusage of the child.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "replay.lua"


@dataclass(frozen=True)
class LoadResult:
    requests: int
    duration_s: float
    statuses: dict[str, int]
    socket_errors: int
    latency_ms: dict[str, float]
    loadgen_cpu_s: float

    @property
    def throughput(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    def count(self, statuses: set[int]) -> int:
        return sum(n for code, n in self.statuses.items() if int(code) in statuses)

    def count_range(self, low: int, high: int) -> int:
        return sum(n for code, n in self.statuses.items() if low <= int(code) <= high)


def ensure_wrk() -> str:
    """wrk's path, installing the Debian package first when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found: installing it with apt-get (Debian package 'wrk')", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    install = [*sudo, "apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, check=False).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update", "-q"], check=True)
        subprocess.run(install, check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is still missing after apt-get install")
    return found


def _wait(process: subprocess.Popen, out, *, budget: int):
    """Waits for wrk; with a budget, interrupts it as soon as the script says it is done.

    wait4 reaps wrk and hands back its own rusage: the load generator's CPU time.
    """
    while budget:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            return status, usage
        if b"BENCH_BUDGET_DONE" in os.pread(out.fileno(), 4096, 0):
            process.send_signal(signal.SIGINT)
            break
        time.sleep(0.005)
    _, status, usage = os.wait4(process.pid, 0)
    return status, usage


def run_wrk(
    *,
    wrk: str,
    base_url: str,
    requests_file: Path,
    connections: int,
    duration_s: float,
    budget: int = 0,
    token: str | None = None,
) -> LoadResult:
    """Runs wrk with one thread; budget > 0 stops after exactly that many responses."""
    command = [
        wrk, "-t1", f"-c{connections}", f"-d{int(duration_s)}s", "--timeout", "60s",
        "-s", str(SCRIPT), base_url, "--", str(requests_file), str(budget), token or "-",
    ]  # fmt: skip
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out, stderr=err)
        try:
            status, usage = _wait(process, out, budget=budget)
        except BaseException:
            process.kill()
            process.wait()
            raise
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    line = next((x for x in stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({process.returncode}): {stderr[-2000:]}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    return LoadResult(
        requests=data["requests"],
        duration_s=data["duration_us"] / 1e6,
        statuses=data["statuses"],
        socket_errors=sum(data["socket_errors"].values()),
        latency_ms={k: v / 1000 for k, v in data["latency_us"].items()},
        loadgen_cpu_s=usage.ru_utime + usage.ru_stime,
    )
