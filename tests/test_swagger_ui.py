"""Swagger UI (/api/docs/) as a browser renders it: headless Chromium (Debian's package, which
.ci/run installs) loads the page from a live server and every operation of the schema shows,
with a padlock exactly where the schema asks for credentials."""

import re
import subprocess

import pytest

from tests.live import required_program

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def rendered(url: str, profile: str) -> str:
    """The page's DOM once its scripts have run (the schema fetched, the operations drawn)."""
    chromium = required_program("chromium")
    args = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
    done = subprocess.run(
        [*args, "--virtual-time-budget=20000", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.django_db(transaction=True)
def test_swagger_ui_shows_every_operation_and_its_padlock(live_server, client, tmp_path):
    schema = client.get("/api/schema/?format=json").json()
    expected = {
        f"{operation['tags'][0]}-{operation['operationId']}": bool(operation.get("security"))
        for methods in schema["paths"].values()
        for operation in methods.values()
    }

    dom = rendered(f"{live_server.url}/api/docs/", str(tmp_path / "chromium"))

    # Each operation block, up to the next one: its summary line holds the padlock button.
    # (Tag sections have ids "operations-tag-<tag>".)
    blocks = re.split(r'(?=id="operations-(?!tag-))', dom)[1:]
    shown = {
        re.match(r'id="operations-([^"]+)"', block).group(1): "authorization__btn" in block
        for block in blocks
    }
    assert shown == expected
    assert len(shown) >= 11
    assert any(shown.values()) and not all(shown.values())
