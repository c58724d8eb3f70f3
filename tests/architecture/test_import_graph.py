"""The layering of `services/`, read from the source: no import cycle among its modules, nothing of the interfaces
(admin, portal, API) imported by it, and every import at the top of its file except the enqueue of a Celery task
(`tracker.tasks`, which imports the services)."""

import ast
import graphlib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services"
INTERFACES = ("tracker.admin", "tracker.portal", "tracker.api", "tracker.admin_site", "tracker.urls")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(node: ast.AST, package: str) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
        # `from services.cases import steps` imports the module services.cases.steps
        return [base] + [f"{base}.{alias.name}" for alias in node.names]
    return []


def service_modules() -> dict[str, Path]:
    return {module_name(path): path for path in SERVICES.rglob("*.py")}


def import_graph() -> tuple[dict[str, set[str]], list[str], list[str]]:
    modules = service_modules()
    graph: dict[str, set[str]] = defaultdict(set, {name: set() for name in modules})
    interface_imports, inner_imports = [], []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            targets = imported_names(node, package)
            if not targets:
                continue
            for target in targets:
                if target.startswith(INTERFACES):
                    interface_imports.append(f"{name} imports {target}")
                if target in modules and target != name:
                    graph[name].add(target)
            if id(node) not in top_level and targets[0] != "tracker.tasks":
                inner_imports.append(f"{name}:{node.lineno} imports {targets[0]} inside a function")
    return graph, interface_imports, inner_imports


def test_no_import_cycle_inside_services():
    graph, _, _ = import_graph()
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as cycle:
        raise AssertionError("import cycle in services/: " + " → ".join(cycle.args[1])) from None


def test_services_import_no_interface():
    _, interface_imports, _ = import_graph()
    assert not interface_imports, "\n".join(interface_imports)


def test_every_import_at_the_top_but_celery_enqueues():
    _, _, inner_imports = import_graph()
    assert not inner_imports, "\n".join(inner_imports)


def test_the_graph_is_read():
    """The walk sees the edges it should: a test of the test."""
    graph, _, _ = import_graph()
    assert "services.delivery.webhooks" in graph["services.cases.transitions"]
    assert "services.states" in graph["services.cases.steps"]
    assert len(graph) > 30
