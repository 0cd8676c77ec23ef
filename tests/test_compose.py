"""The Compose file heals what dies: restart policies, one beat of its own, a worker health
command. (No Docker engine is needed: this reads the file; `docker-compose config` validates it
where installed.)"""

import shutil
import subprocess

import pytest
import yaml

from tests.live import REPO

COMPOSE_FILE = REPO / "docker-compose.yml"


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


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose not installed")
def test_docker_compose_accepts_the_file():
    subprocess.run(
        ["docker-compose", "-f", str(COMPOSE_FILE), "config", "-q"], check=True, timeout=60
    )
