"""How the apps depend on each other: no cycles, and each table written by its owner only."""

import ast
import re
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

APPS = Path(__file__).resolve().parent.parent / "storefront"


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


WRITE = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)", re.IGNORECASE)
OWNER = {"stores_inventory": "inventory", "notifications_orderemail": "notifications"}


def test_stock_and_outbox_tables_are_written_by_their_owner_only():
    """SQL anywhere in the apps (Python and .sql files) writes stock only in inventory and the
    outbox only in notifications."""
    sources = [p for p in APPS.rglob("*") if p.suffix in {".py", ".sql"}]
    writers = {
        (table, source.relative_to(APPS).parts[0])
        for source in sources
        if "tests" not in source.parts and "migrations" not in source.parts
        for table in WRITE.findall(source.read_text())
        if table in OWNER
    }
    assert writers == {(table, owner) for table, owner in OWNER.items()}
