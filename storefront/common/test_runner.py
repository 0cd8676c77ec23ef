from typing import Any


class PytestTestRunner:
    """Makes `manage.py test` run the pytest suite, so both entry points test the same thing."""

    def __init__(self, verbosity: int = 1, failfast: bool = False, keepdb: bool = False, **_: Any):
        self.verbosity = verbosity
        self.failfast = failfast
        self.keepdb = keepdb

    def run_tests(self, test_labels: list[str], **_: Any) -> int:
        import pytest

        argv = ["-v"] if self.verbosity > 1 else []
        if self.failfast:
            argv.append("--exitfirst")
        if self.keepdb:
            argv.append("--reuse-db")
        return pytest.main([*argv, *test_labels])

    @classmethod
    def add_arguments(cls, parser: Any) -> None:
        parser.add_argument("--keepdb", action="store_true")
