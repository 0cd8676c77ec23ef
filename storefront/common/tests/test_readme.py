"""The README's commands, run as a newcomer runs them: in order, against a fresh `make run`.

Every ```bash block of README.md that is a call of the API (a `curl` of http://127.0.0.1:8000,
its output maybe assigned to a variable) runs, in one bash session so that `TOKEN` carries over,
against the session's stack (conftest.py), whose URL replaces the README's. What it prints must
be JSON of the shape of the ```json block that follows it in the README (before the next ```bash
block), or nothing when none follows: the same keys (a `"..."` key stands for keys the README
leaves out), the same types and list lengths, and the same value where the value is the
example's outcome (`status`, an error's `code`). Ids, prices and timestamps may differ.
"""

import json
import re
import subprocess
from typing import Any

import pytest

from storefront.common.tests.embedded import Embedded
from tests.live import REPO, required_program

pytestmark = pytest.mark.slow

README_URL = "http://127.0.0.1:8000"
# Keys whose value is the point of an example: a REJECTED order shown as CONFIRMED is wrong.
OUTCOME_KEYS = {"status", "code"}
END_OF_BLOCK = "<<<end of a README block>>>"
API_CALL = re.compile(r"([A-Z_]+=\$\()?curl ")


def readme_examples() -> list[tuple[str, Any]]:
    """(command, expected answer or None) for every ```bash block of the README that calls the
    API, in the README's order."""
    blocks = re.findall(r"^```(\w*)\n(.*?)^```$", (REPO / "README.md").read_text(), re.M | re.S)
    examples: list[tuple[str, Any]] = []
    for index, (language, body) in enumerate(blocks):
        if language != "bash" or not API_CALL.match(body) or README_URL not in body:
            continue
        answer = None
        for next_language, next_body in blocks[index + 1 :]:
            if next_language == "bash":
                break
            if next_language == "json":
                answer = json.loads(next_body)
                break
        examples.append((body, answer))
    return examples


EXAMPLES = readme_examples()


def shape_mismatches(expected: Any, actual: Any, where: str = "answer") -> list[str]:
    """Where `actual` differs from the README's `expected` in shape or outcome; [] if nowhere."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: an object in the README, here {actual!r}"]
        shown = expected.keys() - {"..."}
        problems = [f"{where}.{key}: missing" for key in sorted(shown - actual.keys())]
        if "..." not in expected:
            problems += [f"{where}.{key}: not in the README" for key in actual.keys() - shown]
        for key in sorted(shown & actual.keys()):
            if key in OUTCOME_KEYS and expected[key] != actual[key]:
                problems.append(
                    f"{where}.{key}: {expected[key]!r} in the README, here {actual[key]!r}"
                )
            else:
                problems += shape_mismatches(expected[key], actual[key], f"{where}.{key}")
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: {len(expected)} items in the README, here {actual!r}"]
        return [
            problem
            for index, (item, actual_item) in enumerate(zip(expected, actual, strict=True))
            for problem in shape_mismatches(item, actual_item, f"{where}[{index}]")
        ]
    if type(expected) is not type(actual):
        return [f"{where}: {expected!r} in the README, here {actual!r}"]
    return []


@pytest.fixture(scope="module")
def outputs(started: Embedded) -> list[str]:
    """What each README command printed, run one after the other in one bash session."""
    required_program("curl")
    script = "set -euo pipefail\n" + "".join(
        f"{command}printf '\\n%s\\n' '{END_OF_BLOCK}'\n" for command, _ in EXAMPLES
    )
    done = subprocess.run(
        ["bash", "-c", script.replace(README_URL, started.base_url)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    printed = done.stdout.split(f"\n{END_OF_BLOCK}\n")[:-1]
    assert len(printed) == len(EXAMPLES), (
        f"bash stopped after {len(printed)} of {len(EXAMPLES)} README commands "
        f"(status {done.returncode}):\n{done.stderr}"
    )
    return printed


def test_the_readme_walks_through_the_first_five_minutes():
    """A token, a search, an order, a rejected one (with a key of its own or none, so that it is
    not answered as a retry of the first), a cancel and a store listing, in that order."""
    (token, _), (search, _), (order, placed), (rejected, refused), (cancel, cancelled) = EXAMPLES[
        :5
    ]
    listing, _ = EXAMPLES[5]
    key = re.compile(r"Idempotency-Key: (\S+)'")

    assert "/api/auth/token/" in token and "store1-dev-password" in token
    assert "/api/search/products/" in search
    assert "/orders/" in order and placed["status"] == "CONFIRMED"
    assert "/orders/" in rejected and refused["status"] == "REJECTED"
    assert not set(key.findall(rejected)) & set(key.findall(order))
    assert f"/orders/{placed['id']}/cancel/" in cancel and cancelled["status"] == "CANCELLED"
    assert "/stores/1/orders/" in listing


@pytest.mark.parametrize(
    ("number", "command", "answer"),
    [(number, command, answer) for number, (command, answer) in enumerate(EXAMPLES)],
    ids=[command.split("\n", 1)[0][:70] for command, _ in EXAMPLES],
)
def test_the_readme_command_answers_as_shown(outputs, number, command, answer):
    printed = outputs[number].strip()
    if answer is None:
        assert printed == "", f"{command}printed {printed!r}; the README shows no answer"
        return

    assert shape_mismatches(answer, json.loads(printed)) == [], f"{command}answered {printed}"


def test_shape_mismatches_names_each_difference():
    order = {"id": 1, "status": "CONFIRMED", "items": [{"quantity": 1}], "cancelled_at": None}

    assert shape_mismatches(order, {**order, "id": 7}) == []
    assert shape_mismatches(order, {**order, "status": "REJECTED"}) == [
        "answer.status: 'CONFIRMED' in the README, here 'REJECTED'"
    ]
    assert shape_mismatches(order, {**order, "cancelled_at": "2026-01-01T00:00:00Z"}) == [
        "answer.cancelled_at: None in the README, here '2026-01-01T00:00:00Z'"
    ]
    assert shape_mismatches(order, {**order, "items": []}) == [
        "answer.items: 1 items in the README, here []"
    ]
    assert shape_mismatches(order, {**order, "items": [{"quantity": "1"}]}) == [
        "answer.items[0].quantity: 1 in the README, here '1'"
    ]
    assert shape_mismatches(order, {"error": {"code": "conflict"}}) == [
        "answer.cancelled_at: missing",
        "answer.id: missing",
        "answer.items: missing",
        "answer.status: missing",
        "answer.error: not in the README",
    ]
    assert shape_mismatches({"id": 1, "...": "..."}, {"id": 2, "total": "1.00"}) == []
