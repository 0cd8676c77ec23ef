"""The one gunicorn configuration, read from the working directory (the repository; /app in
the image) by every command that starts gunicorn: the Dockerfile's, `make run`'s, the live
tests' and the benchmarks'. On the command line they override only what they must: `make run`
its address (localhost), the tests theirs, their worker count and a shorter graceful stop, the
bench its address, the server shape it tries and its keep-alive. In production PORT and
WEB_CONCURRENCY choose the port and the worker count, and GUNICORN_CMD_ARGS (gunicorn's own
variable, applied after this file) any other setting.

gthread workers overlap database waits, each thread with its own database connection. Long
search URLs (percent-encoded unicode) need gunicorn's maximum request line, else gunicorn itself
answers an HTML 414. reuse_port gives each worker its own listening socket, among which the
kernel spreads connections evenly: on one shared socket a worker could accept every keep-alive
connection of a burst while the other idled (bench/README.md, "Connections spread over the
workers").

Each server's control socket (for `gunicornc`) is its own, named by its master's pid under
STOREFRONT_VAR_DIR: gunicorn's default, ~/.gunicorn/gunicorn.ctl, is one for every gunicorn of a
user, which the next server takes over and the first one's exit removes.

It also names the address in gunicorn's "Listening at:" line, and turns on prometheus-client's
multiprocess mode: every worker writes its metrics to files in
PROMETHEUS_MULTIPROC_DIR and /metrics adds up all of them, so that a scrape answered by one
worker counts the requests of every worker. The variable is set here, in the master, before any
worker imports prometheus-client (which reads it once, at import). Set, its directory is
emptied at start (counters restart from zero with the server, as Prometheus expects); unset, a
fresh temporary one is used and removed at exit.
"""

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

bind = [f"0.0.0.0:{os.environ.get('PORT', '8000')}"]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = 8
limit_request_line = 8190
reuse_port = True
control_socket = str(
    Path(os.environ.get("STOREFRONT_VAR_DIR", "var")) / f"gunicorn-{os.getpid()}.ctl"
)

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    metrics_dir, temporary = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]), False
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("*.db"):
        stale.unlink()
else:
    metrics_dir, temporary = Path(tempfile.mkdtemp(prefix="storefront-metrics-")), True
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)


def on_exit(server: object) -> None:
    if temporary:
        shutil.rmtree(metrics_dir, ignore_errors=True)


class ListeningAddresses(logging.Filter):
    """Fills in the addresses of gunicorn's "Listening at:" line. With reuse_port each worker
    binds a socket of its own and the master none, so gunicorn logs that line with an empty
    list: `Listening at:  (22843)`."""

    def __init__(self, addresses: str) -> None:
        super().__init__()
        self.addresses = addresses

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.msg == "Listening at: %s (%s)" and isinstance(args, tuple) and args[:1] == ("",):
            record.args = (self.addresses, *args[1:])
        return True


def configured_address(address: Any, scheme: str) -> str:
    """One of gunicorn's parsed --bind addresses, written as gunicorn writes a bound socket."""
    if isinstance(address, str):
        return f"unix:{address}"
    if isinstance(address, int):
        return f"fd://{address}"
    host, port = address
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def on_starting(server: Any) -> None:
    scheme = "https" if server.cfg.is_ssl else "http"
    addresses = ",".join(configured_address(address, scheme) for address in server.cfg.address)
    logging.getLogger("gunicorn.error").addFilter(ListeningAddresses(addresses))
