"""The stack `make run` starts, as the tests that need one see it (fixtures in conftest.py)."""

from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen


@dataclass
class Embedded:
    process: Popen
    base_url: str
    var_dir: Path
    log: Path
    env: dict[str, str]  # the launcher's, PORT included

    def output(self) -> str:
        return self.log.read_text()

    def emails(self) -> str:
        # The file backend creates its file before writing it: callers wait for the content.
        return "".join(path.read_text() for path in (self.var_dir / "emails").glob("*"))
