"""The import layers hold: api -> assistant/actions -> triage/content, product never -> tools,
and api's domains (conversations, escalations, staff, audit, widget) call each other's services,
never each other's routers, and never in a circle.

Read from the source (ast), function-level imports included, so nothing is imported to check.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("bot", "actions", "api")
DOMAINS = (
    "conversations",
    "escalations",
    "care_team",
    "messaging",
    "staff",
    "audit",
    "reports",
    "widget",
    "enrollments",
    "sms",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {
    _module_name(path): path
    for package in PRODUCT
    for path in sorted((ROOT / package).rglob("*.py"))
    if "migrations" not in path.parts
}


def _imports(module: str) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import in `module`, `from a import b` resolved to a.b
    when a.b is a module."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield (candidate if candidate in MODULES else base), node.lineno


IMPORTS = {module: sorted(set(_imports(module))) for module in MODULES}


def _under(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _domain(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "api" and parts[1] in DOMAINS else None


def _violations(importers: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{module} (line {line}) imports {target}"
        for module, imports in IMPORTS.items()
        if _under(module, *importers)
        for target, line in imports
        if _under(target, *forbidden)
    ]


@pytest.mark.parametrize(
    ("importers", "forbidden"),
    [
        (PRODUCT, ("aftercare_tools",)),  # dev-only tooling: the product runs without it
        (("bot.triage", "bot.content"), ("bot.assistant", "actions", "api")),
        (("bot.assistant", "actions"), ("api",)),
    ],
    ids=["product-imports-no-tools", "triage-and-content-import-nothing-above", "assistant-and-actions-import-no-api"],
)
def test_imports_run_one_way(importers, forbidden):
    assert _violations(importers, forbidden) == []


def _router_modules() -> set[str]:
    return {m for m in MODULES if _domain(m) and "APIRouter(" in MODULES[m].read_text(encoding="utf-8")}


def test_no_domain_imports_another_domains_router():
    """Business functions live in service modules; a router is the edge, imported by main only."""
    routers = _router_modules()
    assert {"api.conversations.router", "api.escalations.router", "api.staff.pages"} <= routers  # the check sees them
    offending = [
        f"{module} (line {line}) imports {target}"
        for module, imports in IMPORTS.items()
        if _domain(module)
        for target, line in imports
        if target in routers and _domain(target) != _domain(module)
    ]
    assert offending == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_api_modules_import_each_other_in_no_circle():
    """A circle among api's modules (across domains or not) means nobody can say which one is
    the lower layer; with the session dependency and service modules there is none."""
    graph = {
        module: {target for target, _ in imports if target in MODULES and _under(target, "api")}
        for module, imports in IMPORTS.items()
        if _under(module, "api")
    }
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    """So that the test above can fail."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_domains_import_each_other_in_no_circle():
    """conversations is the lowest domain; escalations reads it; messaging (the patient-message
    flow, which writes both) sits above the two."""
    graph: dict[str, set[str]] = {}
    for module, imports in IMPORTS.items():
        source = _domain(module)
        for target, _ in imports:
            destination = _domain(target)
            if source and destination and destination != source:
                graph.setdefault(source, set()).add(destination)
    assert _cycles(graph) == [], {d: sorted(t) for d, t in sorted(graph.items())}
    assert "messaging" not in graph.get("conversations", set()) | graph.get("escalations", set())


# The service's public entry points for the dev-only tooling: the app factory, its settings and
# development token minting. Anything deeper (repositories, services) would tie the benchmark
# and evaluation to internals the service may change.
TOOLS_MAY_IMPORT_FROM_API = {"api.main", "api.settings", "api.identity"}


def _tools_api_imports() -> list[str]:
    found = []
    for path in sorted((ROOT / "tools" / "aftercare_tools").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            found += [f"{path.relative_to(ROOT)} (line {node.lineno}) imports {n}" for n in names if _under(n, "api")]
    return found


def test_tools_reach_the_service_only_through_its_entry_points():
    imports = _tools_api_imports()
    assert imports, "the evaluation's in-process runner imports api.main: the scan must see it"
    assert [i for i in imports if i.rpartition(" imports ")[2] not in TOOLS_MAY_IMPORT_FROM_API] == []
