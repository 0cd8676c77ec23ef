"""Read by gunicorn from its working directory (the repository; /app in the image), whichever
command starts it: the Dockerfile, `make run`, the live tests and the benchmarks.

It names the address in gunicorn's "Listening at:" line, and turns on prometheus-client's
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
    """Fills in the addresses of gunicorn's "Listening at:" line. With --reuse-port (the
    Dockerfile's and `make run`'s flags) each worker binds a socket of its own and the master
    none, so gunicorn logs that line with an empty list: `Listening at:  (22843)`."""

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
