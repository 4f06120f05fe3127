"""The import rules of docs/architecture.md, held on the code's syntax tree.

The tables are read from the document itself (fenced blocks ``import-rules`` and
``controller-rooms``), so the rules the document states are the rules the code keeps.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
PACKAGES = ("sites", "network_models", "forecasting", "controller", "sim")
LAZY_PACKAGES = ("controller", "network_models", "forecasting", "sim")
"""Packages whose ``__init__`` imports each public name when it is first read."""


@dataclass(frozen=True)
class Import:
    importer: str
    """Dotted name of the importing module."""
    target: str
    """Dotted name of the imported module (``from m import sub`` names ``m.sub`` where
    ``sub`` is a module)."""
    names: tuple[str, ...]
    """Names taken from ``target`` (empty for ``import target`` or a submodule)."""
    module_level: bool
    """False inside a function (lazy imports); ``TYPE_CHECKING`` blocks are module level."""
    line: int

    def __str__(self) -> str:
        where = "module level" if self.module_level else "inside a function"
        what = f"from {self.target} import {', '.join(self.names)}" if self.names else self.target
        return f"{self.importer}:{self.line} ({where}): {what}"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _source_files() -> dict[str, Path]:
    files: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            files[_module_name(path)] = path
    return files


MODULES = _source_files()


def _is_module(name: str) -> bool:
    return name in MODULES


def _imports_of(module: str, path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[Import] = []

    def visit(node: ast.AST, module_level: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = module_level and not isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] in PACKAGES:
                        found.append(Import(module, alias.name, (), module_level, child.lineno))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = module.split(".")
                    anchor = anchor[: len(anchor) - child.level + (1 if is_package else 0)]
                    base = ".".join([*anchor, base] if base else anchor)
                if base.split(".")[0] not in PACKAGES:
                    continue
                submodules = [a.name for a in child.names if _is_module(f"{base}.{a.name}")]
                names = tuple(a.name for a in child.names if a.name not in submodules)
                for sub in submodules:
                    found.append(Import(module, f"{base}.{sub}", (), module_level, child.lineno))
                if names:
                    found.append(Import(module, base, names, module_level, child.lineno))
            visit(child, inside)

    visit(tree, True)
    return found


IMPORTS = [imp for module, path in MODULES.items() for imp in _imports_of(module, path)]


def _fenced_block(tag: str) -> list[list[str]]:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    match = re.search(rf"```{tag}\n(.*?)```", text, re.S)
    assert match, f"docs/architecture.md has no ```{tag} block"
    rows = [line.split() for line in match.group(1).splitlines() if line.strip()]
    return rows[1:]  # the first row names the columns


@dataclass(frozen=True)
class PackageRule:
    module_level: frozenset[str]
    inside_functions: frozenset[str]
    public: tuple[str, ...]

    def is_public(self, module: str) -> bool:
        return any(
            module == p or (p.endswith(".*") and (module + ".").startswith(p[:-1]))
            for p in self.public
        )


def _parse_package_rules() -> dict[str, PackageRule]:
    """Rows are ``package | module level | inside functions | public``; ``-`` for none."""
    rules: dict[str, PackageRule] = {}
    for row in _fenced_block("import-rules"):
        package, module_level, inside, public = (c.split() for c in " ".join(row).split("|"))
        rules[package[0]] = PackageRule(
            frozenset(module_level) - {"-"}, frozenset(inside) - {"-"}, tuple(public)
        )
    return rules


PACKAGE_RULES = _parse_package_rules()


def _room_levels() -> dict[str, int]:
    return {name: int(row[0]) for row in _fenced_block("controller-rooms") for name in row[1:]}


ROOM_LEVELS = _room_levels()


def _room(module: str) -> str | None:
    """The longest room prefix of a controller module."""
    best = None
    for room in ROOM_LEVELS:
        if (module == room or module.startswith(room + ".")) and (
            best is None or len(room) > len(best)
        ):
            best = room
    return best


def _dunder_all(package: str) -> set[str]:
    tree = ast.parse(MODULES[package].read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return {ast.literal_eval(e) for e in node.value.elts}  # type: ignore[attr-defined]
    return set()


def test_rules_are_read_from_the_document() -> None:
    """The parser found every package and room the document names (else the checks below
    would hold nothing)."""
    assert set(PACKAGE_RULES) == set(PACKAGES)
    assert PACKAGE_RULES["controller"].module_level == {"sites", "network_models", "forecasting"}
    assert PACKAGE_RULES["controller"].inside_functions == {"sim"}
    assert PACKAGE_RULES["sim"].public == ("sim",)
    assert {"controller.solver", "controller.plans", "controller.service"} <= set(ROOM_LEVELS)
    assert len(IMPORTS) > 500, len(IMPORTS)


def test_packages_import_only_what_the_document_allows() -> None:
    wrong = []
    for imp in IMPORTS:
        source, target = imp.importer.split(".")[0], imp.target.split(".")[0]
        if source == target:
            continue
        rule = PACKAGE_RULES[source]
        allowed = (
            rule.module_level if imp.module_level else rule.module_level | rule.inside_functions
        )
        if target not in allowed:
            wrong.append(str(imp))
    assert wrong == [], "\n".join(wrong)


def test_other_packages_import_only_public_modules_and_names() -> None:
    wrong = []
    for imp in IMPORTS:
        source, target = imp.importer.split(".")[0], imp.target.split(".")[0]
        if source == target:
            continue
        rule = PACKAGE_RULES[target]
        if not rule.is_public(imp.target):
            wrong.append(f"{imp}: {imp.target} is not a public module of {target}")
        elif imp.target in LAZY_PACKAGES and imp.names:
            missing = set(imp.names) - _dunder_all(imp.target)
            if missing:
                wrong.append(f"{imp}: {sorted(missing)} not in {imp.target}.__all__")
    assert wrong == [], "\n".join(wrong)


def test_controller_rooms_import_downward() -> None:
    wrong = []
    for imp in IMPORTS:
        if not (imp.importer.startswith("controller.") and imp.target.startswith("controller.")):
            continue  # the package's __init__ names the public API, typing imports only
        source, target = _room(imp.importer), _room(imp.target)
        assert source is not None, f"{imp.importer} is in no room of docs/architecture.md"
        assert target is not None, f"{imp.target} is in no room of docs/architecture.md"
        if source == target:
            continue
        if target == "controller.service":
            if not (imp.importer.startswith("controller.cli.") and not imp.module_level):
                wrong.append(f"{imp}: only the command line imports the service, in a function")
        elif imp.module_level and ROOM_LEVELS[target] > ROOM_LEVELS[source]:
            wrong.append(
                f"{imp}: {source} (level {ROOM_LEVELS[source]}) imports {target} "
                f"(level {ROOM_LEVELS[target]})"
            )
    assert wrong == [], "\n".join(wrong)


def test_room_inits_hold_no_imports() -> None:
    rooms = [r for r in ROOM_LEVELS if MODULES.get(r, Path()).name == "__init__.py"]
    assert "controller.solver" in rooms
    wrong = [str(i) for i in IMPORTS if i.importer in rooms and i.module_level]
    assert wrong == [], "\n".join(wrong)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_circle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle() -> None:
    edges: dict[str, set[str]] = {module: set() for module in MODULES}
    for imp in IMPORTS:
        if imp.module_level and imp.target in MODULES and imp.target != imp.importer:
            edges[imp.importer].add(imp.target)
    assert _cycles(edges) == []


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_public_api_names_resolve(package: str) -> None:
    """Every name in a package's ``__all__`` is found (its lazy table points at a module
    that defines it), and the package's ``__init__`` imports nothing at run time."""
    module = importlib.import_module(package)
    names = _dunder_all(package)
    assert names, f"{package}.__all__ is empty"
    assert set(module.__all__) == names
    for name in sorted(names):
        assert getattr(module, name) is not None, f"{package}.{name}"
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = module.no_such_name
