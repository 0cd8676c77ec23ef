import os
import subprocess
import sys
from typing import Any


class PytestTestRunner:
    """Makes `manage.py test` run the pytest suite, so both entry points test the same thing."""

    def __init__(self, verbosity: int = 1, failfast: bool = False, keepdb: bool = False, **_: Any):
        self.verbosity = verbosity
        self.failfast = failfast
        self.keepdb = keepdb

    def run_tests(self, test_labels: list[str], **_: Any) -> int:
        argv = ["-v"] if self.verbosity > 1 else []
        if self.failfast:
            argv.append("--exitfirst")
        if self.keepdb:
            argv.append("--reuse-db")
        # In a process of its own: this one has loaded config.settings, and the suite runs with
        # its own (pyproject.toml's tests.settings), which keep its Redis keys apart.
        env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
        return subprocess.call([sys.executable, "-m", "pytest", *argv, *test_labels], env=env)

    @classmethod
    def add_arguments(cls, parser: Any) -> None:
        parser.add_argument("--keepdb", action="store_true")
