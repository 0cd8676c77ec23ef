"""Read by gunicorn from its working directory (the repository; /app in the image), whichever
command starts it: the Dockerfile, `make run`, the live tests and the benchmarks.

It turns on prometheus-client's multiprocess mode: every worker writes its metrics to files in
PROMETHEUS_MULTIPROC_DIR and /metrics adds up all of them, so that a scrape answered by one
worker counts the requests of every worker. The variable is set here, in the master, before any
worker imports prometheus-client (which reads it once, at import). Set, its directory is
emptied at start (counters restart from zero with the server, as Prometheus expects); unset, a
fresh temporary one is used and removed at exit.
"""

import os
import shutil
import tempfile
from pathlib import Path

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
