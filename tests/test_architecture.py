"""How the apps depend on each other: no cycles, and each table written by its owner only."""

import ast
import re
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

APPS = Path(__file__).resolve().parent.parent / "storefront"
CONFIG = APPS.parent / "config"


def app_sources(app: Path) -> list[Path]:
    return [p for p in app.rglob("*.py") if "tests" not in p.parts and "migrations" not in p.parts]


def imported_apps(source: Path) -> set[str]:
    """The storefront apps a module imports, at module level or inside functions."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name.split(".")[1] for name in names if name.startswith("storefront.")}


def app_graph() -> dict[str, set[str]]:
    graph = {}
    for app in sorted(p for p in APPS.iterdir() if (p / "apps.py").exists()):
        used = set().union(*(imported_apps(source) for source in app_sources(app)))
        graph[app.name] = used - {app.name}
    return graph


def test_no_import_cycle_between_apps():
    graph = app_graph()
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as cycle:
        raise AssertionError(f"import cycle: {cycle.args[1]}") from None
    assert {"orders", "notifications", "inventory"} <= set(order)
    assert "orders" not in graph["notifications"]
    assert "orders" not in graph["inventory"]


WRITE = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|COPY)\s+(\w+)", re.IGNORECASE)
OWNER = {
    "stores_inventory": "inventory",
    "inventory_stockmovement": "inventory",
    "notifications_orderemail": "notifications",
}


def test_stock_and_outbox_tables_are_written_by_their_owner_only():
    """SQL anywhere in the apps (Python and .sql files) writes stock and its ledger only in
    inventory and the outbox only in notifications."""
    sources = [p for p in APPS.rglob("*") if p.suffix in {".py", ".sql"}]
    writers = {
        (table, source.relative_to(APPS).parts[0])
        for source in sources
        if "tests" not in source.parts and "migrations" not in source.parts
        for table in WRITE.findall(source.read_text())
        if table in OWNER
    }
    assert writers == {(table, owner) for table, owner in OWNER.items()}


STOCK_MODELS = {"Inventory", "StockMovement"}
ORM_WRITES = {
    "create", "bulk_create", "get_or_create", "update_or_create", "update", "bulk_update",
    "delete", "save",
}  # fmt: skip


def _root_name(node: ast.expr) -> str | None:
    """The name a chain like `Inventory.objects.filter(...).update` starts from."""
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def stock_model_writes(source: Path) -> list[str]:
    """ORM writes of the stock models in a module, and the models handed to other code (a
    generic writer such as a COPY helper)."""
    found = []
    for node in ast.walk(ast.parse(source.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        written = isinstance(func, ast.Attribute) and func.attr in ORM_WRITES
        if written and _root_name(func.value) in STOCK_MODELS:
            found.append(f"{source.name}:{node.lineno} .{func.attr}()")
        for argument in [*node.args, *(keyword.value for keyword in node.keywords)]:
            if isinstance(argument, ast.Name) and argument.id in STOCK_MODELS:
                found.append(f"{source.name}:{node.lineno} passes {argument.id}")
    return found


def test_stock_changes_only_through_inventorys_functions():
    """No code writes stock rows or movements through the ORM, and only inventory hands their
    models to other code: stock_load (a seed's COPY, which writes each row's movement with it)
    and the admin. Every other change goes through inventory's SQL functions."""
    writes = [
        f"{app.name}/{entry}"
        for app in APPS.iterdir()
        if (app / "apps.py").exists()
        for source in app_sources(app)
        for entry in stock_model_writes(source)
    ]
    # stock_load's two COPYs, and the admin's registrations (its edits call stock_set).
    allowed = re.compile(r"inventory/(services|admin)\.py:\d+ passes (Inventory|StockMovement)$")
    assert [entry for entry in writes if not allowed.match(entry)] == []


def sql_functions(text: str) -> dict[str, str]:
    """The body of every function of a .sql file, by name."""
    parts = re.split(r"CREATE OR REPLACE FUNCTION (\w+)", text)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_one_statement_changes_stock_quantities_and_it_writes_the_ledger():
    """The trigger-free ledger: in inventory's SQL, quantities change in inventory_change only,
    in one statement with the movements' insert; the only other write of a stock row is
    inventory_lock creating missing rows at quantity 0 (they hold nothing)."""
    functions = sql_functions((APPS / "inventory" / "sql" / "stock.sql").read_text())
    writers = {
        name: sorted(set(WRITE.findall(body)) & set(OWNER)) for name, body in functions.items()
    }
    assert {name: tables for name, tables in writers.items() if tables} == {
        "inventory_lock": ["stores_inventory"],
        "inventory_change": ["inventory_stockmovement", "stores_inventory"],
    }
    assert re.search(r"WITH changed AS \(\s*UPDATE stores_inventory", functions["inventory_change"])
    assert re.search(r"SELECT p_store, w\.id, 0, now\(\)", functions["inventory_lock"])


def lag_tolerant_handlers() -> dict[str, str]:
    """`View.method` of every handler decorated with @lag_tolerant, by module."""
    found = {}
    for source in APPS.rglob("*.py"):
        if "tests" in source.parts:
            continue
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and any(
                        isinstance(d, ast.Name) and d.id == "lag_tolerant"
                        for d in item.decorator_list
                    ):
                        found[f"{node.name}.{item.name}"] = source.parent.name
    return found


def test_only_catalog_reads_may_run_on_a_replica():
    """The replica rule (storefront/common/replicas.py, docs/scaling.md): GET handlers of the
    catalog's reads only; orders, staff endpoints and every write stay on the primary."""
    assert lag_tolerant_handlers() == {
        "ProductSearchApi.get": "search",
        "ProductSuggestApi.get": "search",
        "StoreListApi.get": "stores",
        "StoreDetailApi.get": "stores",
        "StoreInventoryListApi.get": "inventory",
        "ProductDetailApi.get": "catalog",
        "CategoryListApi.get": "catalog",
    }


CLIENT_IDENTITY = re.compile(
    r"REMOTE_ADDR|X_FORWARDED_FOR|X-Forwarded-For|get_ident|NUM_PROXIES"
    r"|(?:Simple|Anon|User|Scoped)RateThrottle|DEFAULT_THROTTLE",
    re.IGNORECASE,
)


def test_one_function_says_who_the_client_is():
    """Every per-client limit counts `client_address`: nothing else reads the peer or the
    forwarded header, and DRF's own throttles (whose `get_ident` trusts X-Forwarded-For by
    NUM_PROXIES, from any peer) are not used."""
    sources = [*(p for p in APPS.rglob("*.py") if "tests" not in p.parts), *CONFIG.glob("*.py")]
    readers = {
        source.relative_to(APPS.parent).as_posix()
        for source in sources
        if CLIENT_IDENTITY.search(source.read_text())
    }
    assert readers == {"storefront/common/proxies.py"}
