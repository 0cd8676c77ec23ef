"""The developer habits: `.env.example` names every documented setting, `make help` lists
every target, pre-commit runs the project's own ruff and mypy."""

import re
import subprocess

import yaml

from tests.live import BIN, REPO

README = (REPO / "README.md").read_text()


def documented_settings() -> set[str]:
    """The variables of the README's Configuration table."""
    table = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return {
        name
        for row in table.splitlines()
        if row.startswith("| `")
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])
    }


def test_env_example_has_every_setting_the_readme_lists_and_no_other():
    example = (REPO / ".env.example").read_text()
    names = set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    assert names == documented_settings()
    assert len(documented_settings()) > 30


def test_make_help_lists_every_target():
    makefile = (REPO / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE))
    shown = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=REPO, capture_output=True, text=True
    ).stdout
    listed = set(re.findall(r"^  make (\S+)", shown, re.MULTILINE))
    assert listed == targets
    assert {"run", "test", "lint", "typecheck", "help"} <= listed


def test_pre_commit_runs_the_pinned_ruff_and_mypy_of_the_virtualenv():
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert {repo["repo"] for repo in config["repos"]} == {"local"}
    assert hooks["ruff-check"]["entry"].startswith(".venv/bin/ruff check")
    assert hooks["ruff-format"]["entry"].startswith(".venv/bin/ruff format")
    assert hooks["mypy"]["entry"] == "make typecheck"
    assert all(hook["language"] == "system" for hook in hooks.values())
    done = subprocess.run(
        [str(BIN / "pre-commit"), "validate-config", ".pre-commit-config.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
