"""gunicorn.conf.py is the one gunicorn configuration: the commands that start gunicorn (the
image's, `make run`'s, the live tests' and the benchmarks') repeat none of its settings, and a
server started as the live tests start theirs runs it: gthread workers with its threads, a
listening socket per worker, and a control socket of its own, never gunicorn's default under the
user's home, which every gunicorn of that user would share."""

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.live import BIN, REPO, Gunicorn, app_env, listening_pids

LAUNCHERS = ("Dockerfile", "scripts/dev.py", "tests/live.py", "bench/stack.py")


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_every_command_starting_gunicorn_reads_gunicorn_conf_py_and_repeats_none_of_it(launcher):
    source = (REPO / launcher).read_text()

    assert re.search(r'"--config",\s*"gunicorn\.conf\.py"', source)
    for setting in ("--worker-class", "--threads", "--reuse-port", "--limit-request-line"):
        assert setting not in source, setting


def last_logged(server: Gunicorn, pattern: str) -> str:
    """What `pattern`'s group matched on its last line of the server's log (earlier servers on
    the same port wrote theirs above)."""
    found = re.findall(pattern, server.log.read_text())
    assert found, server.log.read_text()[-2000:]
    return found[-1]


def ask(socket: Path, command: str) -> dict:
    """A command of gunicorn's control client (`gunicornc`) to the master behind `socket`."""
    done = subprocess.run(
        [str(BIN / "gunicornc"), "-s", str(socket), "-c", command, "-j"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


@pytest.mark.slow
def test_servers_run_gthread_workers_a_socket_per_worker_and_a_control_socket_each(
    fresh_database, redis_server, start_gunicorn, workdir: Path, tmp_path: Path
):
    database = fresh_database("gunicorn_config")
    redis = redis_server()
    home = tmp_path / "home"
    home.mkdir()
    env = app_env(database_url=database.url, redis_url=redis.url(0), workdir=workdir)
    # gunicorn's default control socket: $XDG_RUNTIME_DIR/gunicorn.ctl, else under $HOME.
    env.pop("XDG_RUNTIME_DIR", None)
    env["HOME"] = str(home)
    servers = [start_gunicorn(env, workers=2), start_gunicorn(env, workers=3)]

    sockets = [Path(last_logged(s, r"Control socket listening at (\S+)")) for s in servers]
    configs = [ask(socket, "show config") for socket in sockets]
    workers = [
        {worker["pid"] for worker in ask(socket, "show workers")["workers"]} for socket in sockets
    ]

    assert sockets[0] != sockets[1]
    assert all(socket.parent == workdir / "var" and socket.is_socket() for socket in sockets)
    assert [config["control_socket"] for config in configs] == [str(s) for s in sockets]
    assert not (home / ".gunicorn").exists()
    for server, config, pids in zip(servers, configs, workers, strict=True):
        assert last_logged(server, r"Using worker: (\S+)") == "gthread"
        assert (config["workers"], config["threads"]) == (server.workers, 8)
        # reuse_port: each worker listens on a socket of its own, the master on none.
        assert listening_pids(server.port) == pids
        assert len(pids) == server.workers
