"""The developer habits: `.env.example` names every variable the configuration reads and the
README documents, `make help` lists every target, pre-commit runs the project's own ruff and
mypy."""

import ast
import re
import subprocess

import pytest
import yaml

from tests.live import BIN, REPO

README = (REPO / "README.md").read_text()
# The code that reads the configuration from the environment: the settings, gunicorn's (the
# metrics directory) and `make run`'s launcher (PORT, STOREFRONT_VAR_DIR).
CONFIGURATION_READERS = ("config/settings.py", "gunicorn.conf.py", "scripts/dev.py")


def environment_reads(source: str) -> set[str]:
    """The variables `source` reads from the environment: `os.environ.get(NAME)`,
    `os.environ[NAME]`, `os.getenv(NAME)`, or a function of its own that passes its first
    parameter to one of those (settings.py's `env_int(NAME, default)`). A name that is not a
    literal fails, so no read goes unseen."""
    tree = ast.parse(source)

    def read_name(node: ast.AST, readers: set[str]) -> ast.expr | None:
        """The name argument of `node` if it is a read: a subscript of os.environ, or a call of
        one of `readers`."""
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            return node.slice if ast.unparse(node.value) == "os.environ" else None
        if isinstance(node, ast.Call) and node.args and ast.unparse(node.func) in readers:
            return node.args[0]
        return None

    direct = {"os.environ.get", "os.getenv"}
    helpers = {
        function.name: function.args.args[0].arg
        for function in tree.body
        if isinstance(function, ast.FunctionDef) and function.args.args
        for node in ast.walk(function)
        if isinstance(name := read_name(node, direct), ast.Name)
        and name.id == function.args.args[0].arg
    }
    names = set()
    for node in ast.walk(tree):
        name = read_name(node, direct | helpers.keys())
        if name is None or (isinstance(name, ast.Name) and name.id in helpers.values()):
            continue
        assert isinstance(name, ast.Constant), f"not a literal name: {ast.unparse(node)}"
        names.add(name.value)
    return names


def env_example_names() -> set[str]:
    example = (REPO / ".env.example").read_text()
    return set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))


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
    assert env_example_names() == documented_settings()
    assert len(documented_settings()) > 30


def test_env_example_lists_every_variable_the_configuration_reads_and_no_other():
    read = set().union(
        *(environment_reads((REPO / path).read_text()) for path in CONFIGURATION_READERS)
    )

    assert sorted(read - env_example_names()) == [], "read but not in .env.example"
    assert sorted(env_example_names() - read) == [], "in .env.example but read nowhere"


def test_environment_reads_sees_every_form_of_read():
    source = """
import os
def env_int(name, default):
    return int(os.environ.get(name, default))
A = os.environ.get("DIRECT", "x")
B = os.environ["SUBSCRIPT"]
C = os.getenv("GETENV")
D = f"-c {env_int('THROUGH_A_HELPER', 0)}"
os.environ["WRITTEN_ONLY"] = "1"
"""
    assert environment_reads(source) == {"DIRECT", "SUBSCRIPT", "GETENV", "THROUGH_A_HELPER"}
    with pytest.raises(AssertionError, match="not a literal name"):
        environment_reads("import os\nname = 'X'\nos.environ.get(name)")


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
