"""Property-based fuzzing of the whole API with schemathesis, from the project's own OpenAPI
schema, against a live gunicorn on PostgreSQL and Redis: no 5xx, every response as documented,
and the stock still adds up afterwards; and of the listings' cursors, which are opaque to
schemathesis, with hypothesis. `make fuzz` runs a longer campaign (scripts/fuzz.sh)."""

import os
import re
import shlex
import subprocess
from pathlib import Path

import hypothesis
import jsonschema
import pytest
import requests
from hypothesis import given

from storefront.common.tests.paging_strategies import PAGING_PARAMETERS
from tests.live import BIN, REPO
from tests.stock import assert_ledger_adds_up

pytestmark = pytest.mark.slow

CONFIG = Path(__file__).with_name("schemathesis.toml")
# CI defaults; scripts/fuzz.sh (`make fuzz`) raises them for a longer campaign.
MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "25")
SEED = os.environ.get("FUZZ_SEED", "20261127")  # "random": a new seed each run
EXTRA_ARGS = shlex.split(os.environ.get("FUZZ_ARGS", ""))


def test_every_operation_answers_as_documented_under_fuzzing(live, seeded_template, workdir):
    done = subprocess.run(
        [
            str(BIN / "schemathesis"),
            "--config-file",
            str(CONFIG),
            "--no-color",
            "run",
            f"{live.url}/api/schema/",
            "--checks",
            "all",
            "--max-examples",
            MAX_EXAMPLES,
            *([] if SEED == "random" else ["--seed", SEED]),
            "--header",
            f"Authorization: Token {live.tokens['store1-manager']}",
            "--request-timeout",
            "30",
            *EXTRA_ARGS,
        ],
        cwd=workdir,  # schemathesis keeps its cache in the working directory
        capture_output=True,
        text=True,
        timeout=900,
    )
    summary = done.stdout[done.stdout.rfind("SUMMARY") :]
    assert done.returncode == 0, done.stdout[-12_000:] + done.stderr[-2000:]
    print("\n" + summary)
    assert re.search(r"\d+ generated", summary)
    _assert_stock_adds_up(live.database, seeded_template.database)


def test_no_paging_parameters_make_a_listing_fail_under_fuzzing(live):
    # A schema fuzzer only sends random text as a cursor; these also decode to `o=`, `r=` and
    # `p=` with made-up values, on every cursor-paged operation, as the store's staff.
    schema = requests.get(f"{live.url}/api/schema/?format=json", timeout=30).json()
    urls = [
        live.url + re.sub(r"\{[^}]+\}", "1", path)
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        if any(parameter["name"] == "cursor" for parameter in operation.get("parameters", []))
    ]
    assert len(urls) >= 2
    statuses: set[int] = set()

    @hypothesis.settings(max_examples=int(MAX_EXAMPLES), deadline=None, database=None)
    @given(parameters=PAGING_PARAMETERS)
    def listings_answer(parameters):
        for url in urls:
            response = requests.get(url, params=parameters, headers=live.auth(), timeout=30)
            assert response.status_code in (200, 400), (url, parameters, response.text[:300])
            if response.status_code == 400:
                assert set(response.json()["error"]["fields"]) <= {"cursor", "page_size"}
            statuses.add(response.status_code)

    if SEED != "random":
        listings_answer = hypothesis.seed(int(SEED))(listings_answer)
    listings_answer()
    assert statuses == {200, 400}


def _assert_stock_adds_up(database, template) -> None:
    """Whatever the fuzzer ordered, cancelled, restocked and counted: the ledger adds up, and
    stock + confirmed units - staff changes == seeded stock."""
    seeded = dict(
        ((store, product), quantity)
        for store, product, quantity in template.rows(
            "SELECT store_id, product_id, quantity FROM stores_inventory"
        )
    )
    now = {
        (store, product): quantity
        for store, product, quantity in database.rows(
            "SELECT store_id, product_id, quantity FROM stores_inventory"
        )
    }
    sold = {
        (store, product): quantity
        for store, product, quantity in database.rows(
            "SELECT o.store_id, i.product_id, sum(i.quantity) FROM orders_orderitem i "
            "JOIN orders_order o ON o.id = i.order_id WHERE o.status = 'CONFIRMED' "
            "GROUP BY o.store_id, i.product_id"
        )
    }
    staff = {
        (store, product): delta
        for store, product, delta in database.rows(
            "SELECT store_id, product_id, sum(delta) FROM inventory_stockmovement "
            "WHERE reason NOT IN ('order', 'cancel', 'initial') GROUP BY store_id, product_id"
        )
    }
    assert set(now) >= set(seeded)  # a restock of a product the store never carried adds one
    assert all(quantity >= 0 for quantity in now.values())
    assert_ledger_adds_up(database)
    assert {key: now[key] + sold.get(key, 0) - staff.get(key, 0) for key in now} == {
        key: seeded.get(key, 0) for key in now
    }


def test_the_schema_generates_valid_and_without_warnings():
    # A warning means some request or response shape is guessed ("Defaulting to string"):
    # fuzzing would then test the guess instead of the API.
    done = subprocess.run(
        [str(BIN / "python"), "manage.py", "spectacular", "--validate", "--fail-on-warn"],
        cwd=REPO,
        env={**os.environ, "DEBUG": "false", "SECRET_KEY": "k" * 50},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert done.stdout.startswith("openapi: 3")


# --- What fuzzing found, pinned down as plain tests ---------------------------------------------


def _json_schema(node):
    """OpenAPI 3.0's `nullable: true` spelled as JSON Schema: also allow null."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def _documented(live, component: str):
    schema = requests.get(f"{live.url}/api/schema/?format=json", timeout=30).json()
    return jsonschema.Draft202012Validator(
        {
            "$ref": f"#/components/schemas/{component}",
            "components": _json_schema(schema["components"]),
        },
        format_checker=jsonschema.FormatChecker(),
    )


def test_an_order_placed_without_email_matches_the_documented_order(live):
    product_id = live.database.scalar(
        "SELECT product_id FROM stores_inventory WHERE store_id = 1 AND quantity > 0 LIMIT 1"
    )
    placed = requests.post(
        f"{live.url}/orders/",
        json={"store": 1, "items": [{"product_id": product_id, "quantity": 1}]},
        timeout=30,
    )
    assert placed.status_code == 201
    errors = [error.message for error in _documented(live, "Order").iter_errors(placed.json())]
    assert errors == []


def test_an_empty_search_parameter_is_rejected_as_documented(live):
    # The schema documents `ordering` as one of a fixed set (and the other parameters with
    # minLength 1 or a number format), so an empty value must not be accepted as "absent".
    response = requests.get(f"{live.url}/api/search/products/?ordering=", timeout=30)
    assert response.status_code == 400
