"""The production image installs runtime dependencies only, runs as a non-root user and gets no
secret from the build context; the Compose file stays valid. No Docker engine is needed: the
Dockerfile, .dockerignore and pyproject are read, and `docker-compose config` validates the
Compose file."""

import re
import subprocess
import tomllib
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.live import REPO, required_program

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), one list per FROM."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    instructions = [line.strip() for line in text.splitlines()]
    instructions = [line for line in instructions if line and not line.startswith("#")]
    result: list[list[str]] = []
    for instruction in instructions:
        if instruction.upper().startswith("FROM "):
            result.append([])
        result[-1].append(instruction)
    return result


def pip_installs(stage: list[str]) -> list[str]:
    return [
        install
        for line in stage
        if line.upper().startswith("RUN ")
        for install in re.findall(r"pip install ([^&;]*?)\s*(?:&&|;|$)", line)
    ]


def closure(requirements: list[str]) -> set[str]:
    """Every distribution these requirements pull in, as installed in this environment."""
    seen: set[str] = set()
    pending = [(Requirement(text), "") for text in requirements]
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        for text in metadata.requires(requirement.name) or []:
            child = Requirement(text)
            # A child that applies only with an extra is followed only if that extra is asked.
            pending += [(child, wanted) for wanted in requirement.extras or {""}]
    return seen


def test_the_image_builds_in_two_stages_and_runs_as_a_non_root_user():
    build, runtime = stages()
    users = [line.split()[1] for line in runtime if line.upper().startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    assert any(line.upper().startswith("COPY --FROM=") for line in runtime)
    assert pip_installs(runtime) == [], "the runtime stage installs nothing itself"
    assert pip_installs(build) == ["."], "the build stage installs the project without extras"


def test_the_runtime_dependencies_pull_in_no_test_benchmark_or_embedded_package():
    runtime = closure(PYPROJECT["project"]["dependencies"])
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert set(extras) == {"dev", "embedded", "bench"}
    dev_only = {
        canonicalize_name(Requirement(text).name) for group in extras.values() for text in group
    }
    assert runtime & dev_only == set()
    # Nor what those tools bring along.
    assert runtime & {"pluggy", "iniconfig", "coverage", "hypothesis", "execnet"} == set()
    assert {"django", "gunicorn", "celery", "prometheus-client"} <= runtime


def dockerignore_pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regular expression: `*` and `?` within one path segment,
    `**/` any number of segments (the subset of Docker's syntax the file uses)."""
    regex = ""
    rest = pattern.strip("/")
    while rest:
        for token, translated in (
            ("**/", "(?:[^/]+/)*"),
            ("**", ".*"),
            ("*", "[^/]*"),
            ("?", "[^/]"),
        ):
            if rest.startswith(token):
                regex, rest = regex + translated, rest[len(token) :]
                break
        else:
            regex, rest = regex + re.escape(rest[0]), rest[1:]
    return re.compile(regex)


def left_out_of_the_context(path: str) -> bool:
    """Whether `docker build` leaves `path` (relative to the repository) out of the context: the
    last pattern matching it or a directory above it decides; a `!` pattern takes it back in."""
    lines = (REPO / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    parts = path.split("/")
    path_and_parents = ["/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]
    left_out = False
    for pattern in patterns:
        regex = dockerignore_pattern(pattern.removeprefix("!"))
        if any(regex.fullmatch(candidate) for candidate in path_and_parents):
            left_out = not pattern.startswith("!")
    return left_out


def test_the_build_context_leaves_out_secrets_and_local_state():
    secrets = [".env", ".env.production", "config/.env", "deploy/tls.pem", "deploy/tls.key"]
    local = ["var/postgres/PG_VERSION", "var/emails/1.log", ".venv/bin/python", ".git/HEAD"]
    assert [path for path in secrets + local if not left_out_of_the_context(path)] == []


def test_the_build_context_keeps_the_source_the_image_runs():
    tracked = subprocess.run(
        ["git", "ls-files", "config", "storefront", "manage.py", "gunicorn.conf.py"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert len(tracked) > 50
    kept = [*tracked, ".env.example", "pyproject.toml", "README.md"]
    assert [path for path in kept if left_out_of_the_context(path)] == []


def test_docker_compose_config_is_valid():
    compose = required_program("docker-compose")
    done = subprocess.run(
        [compose, "-f", str(REPO / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
