"""The shape of the code: every import points one way, and no packages import each other
in a circle.

    states <- activities <- workflows <- library (dvds/ without its faces) <- worker.py, faces, bench

(A <- B: B may import A.) The faces are dvds/cli/ (typer, rich) and dvds/web/ (FastAPI);
neither imports the other, and only the commands that start a face import one. Read
from the source with `ast`, imports inside functions included, so a lazy import counts
the same as one at the top.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["states", "activities", "workflows", "dvds", "bench", "worker.py"]

# Which layers each layer may import from (its own included).
BELOW = {
    "states": {"states"},
    "activities": {"states", "activities"},
    "workflows": {"states", "activities", "workflows"},
    "library": {"states", "activities", "workflows", "library"},
    "cli": {"states", "activities", "workflows", "library", "cli"},
    "web": {"states", "activities", "workflows", "library", "web"},
    "worker": {"states", "activities", "workflows", "library"},
    "bench": {"states", "activities", "workflows", "library", "worker", "bench"},
}
# The commands that start a face compose it with the rest: the only imports of a face
# (or of worker.py) from elsewhere.
COMPOSERS = {
    "dvds.cli.commands.up": {"web", "worker"},  # `dvds up`: server, worker, inbox, codec server
    "dvds.cli.commands.web": {"web"},  # `dvds web`: the inbox alone
}
FACE_FRAMEWORKS = {"typer", "click", "rich", "fastapi", "starlette", "uvicorn", "jinja2"}
# Below the faces nothing draws a screen or serves a page; states/ also touches nothing.
FORBIDDEN = {
    "states": FACE_FRAMEWORKS | {"temporalio", "httpx", "aiosmtplib", "sqlite3", "socket", "subprocess", "structlog"},
    "activities": FACE_FRAMEWORKS,
    "workflows": FACE_FRAMEWORKS,
    "library": FACE_FRAMEWORKS,
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. dvds.cli.commands.case
    target: str  # what it imports, e.g. dvds.cases.client
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> Iterator[Path]:
    for entry in SOURCES:
        path = ROOT / entry
        yield from [path] if path.is_file() else sorted(path.rglob("*.py"))


def imports_of(path: Path) -> Iterator[Import]:
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from dvds.cases import client` imports the module dvds.cases.client
                yield Import(module, f"{base}.{alias.name}" if base else alias.name, node.lineno)


def project_modules() -> set[str]:
    return {module_name(path) for path in source_files()}


def resolve(target: str, known: set[str]) -> str | None:
    """The project module an import names (a name imported from a module resolves to the
    module), or None for anything outside the project."""
    while target:
        if target in known:
            return target
        target = target.rpartition(".")[0]
    return None


def layer(module: str) -> str:
    top = module.split(".")[0]
    if top in ("states", "activities", "workflows", "bench"):
        return top
    if top == "worker":
        return "worker"
    if module == "dvds.__main__" or module.startswith("dvds.cli"):
        return "cli"
    if module.startswith("dvds.web"):
        return "web"
    assert top == "dvds", module
    return "library"


def package_of(module: str, known_packages: set[str]) -> str:
    """The package a module sits in: its folder (dvds/cases/client.py -> dvds.cases). A face
    is one package whatever its folders (its commands, `python -m dvds`)."""
    if layer(module) in ("cli", "web"):
        return f"dvds.{layer(module)}"
    return module if module in known_packages else module.rpartition(".")[0] or module


def violations(found: list[Import], known: set[str]) -> list[str]:
    problems = []
    for imp in found:
        source_layer = layer(imp.module)
        top = imp.target.split(".")[0]
        if top in FORBIDDEN.get(source_layer, set()):
            problems.append(f"{imp.module}:{imp.line} imports {imp.target}: {source_layer} must not use {top}")
        target = resolve(imp.target, known)
        if target is None:
            continue
        target_layer = layer(target)
        allowed = BELOW[source_layer] | COMPOSERS.get(imp.module, set())
        if target_layer not in allowed:
            problems.append(f"{imp.module}:{imp.line} imports {target}: {source_layer} may not import {target_layer}")
    return problems


def package_cycles(found: list[Import], known: set[str], packages: set[str]) -> list[list[str]]:
    """Groups of packages that import each other, directly or round a loop (Tarjan)."""
    edges: dict[str, set[str]] = {}
    for imp in found:
        target = resolve(imp.target, known)
        if target is None:
            continue
        source, dest = package_of(imp.module, packages), package_of(target, packages)
        if source != dest:
            edges.setdefault(source, set()).add(dest)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


Tree = tuple[list[Import], set[str], set[str]]  # the imports, the modules, the packages


@pytest.fixture(scope="module")
def tree() -> Tree:
    files = list(source_files())
    known = {module_name(path) for path in files}
    packages = {module_name(path) for path in files if path.name == "__init__.py"}
    return [imp for path in files for imp in imports_of(path)], known, packages


class TestImportDirection:
    """Imports point from the faces down to the domain, never back up."""

    def test_no_import_against_the_direction(self, tree: Tree) -> None:
        """Every import in the tree is allowed by the layers (and face frameworks stay in the faces)."""
        found, known, _ = tree
        assert violations(found, known) == []

    def test_no_packages_in_a_circle(self, tree: Tree) -> None:
        """No two packages import each other, directly or round a loop."""
        found, known, packages = tree
        assert package_cycles(found, known, packages) == []

    def test_the_check_catches_imports_against_the_direction(self, tree: Tree) -> None:
        """Each kind of wrong import is reported: up a layer, across the faces, a framework below a face."""
        _, known, _ = tree
        wrong = [
            Import("states.case", "workflows.case", 1),
            Import("activities.iopc", "dvds.settings", 2),
            Import("workflows.case", "dvds.cases.client", 3),
            Import("dvds.cases.client", "dvds.cli.output", 4),
            Import("dvds.web.app", "dvds.cli.commands.case", 5),
            Import("dvds.cli.commands.case", "dvds.web.app", 6),
            Import("dvds.audit.report", "worker", 7),
            Import("dvds.importer.run", "rich.console", 8),
            Import("states.policy", "temporalio.workflow", 9),
        ]
        reported = violations(wrong, known)
        assert [p.split(":")[1].split(" ")[0] for p in reported] == [str(n) for n in range(1, 10)]

    def test_the_check_catches_a_circle(self, tree: Tree) -> None:
        """Two library packages importing each other are reported as one circle."""
        _, known, packages = tree
        loop = [Import("dvds.cases.client", "dvds.audit.report", 1),
                Import("dvds.audit.report", "dvds.cases.client", 2)]
        assert package_cycles(loop, known, packages) == [["dvds.audit", "dvds.cases"]]
