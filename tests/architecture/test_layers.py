"""The import direction of the package's layers (docs/ARCHITECTURE.md): every import, module-level or inside a
function, goes to the same layer or one below it, and the package's modules import each other without cycles.

    pages, cli, bench, app  ->  ui  ->  analysis, store  ->  experiment  ->  core, defaults  ->  io  ->  base

base is `errors`, `atomic`, `paths`, `records` (a run folder's typed records) and the package root (its version).
Pages, besides, never import `core`, `io`, `defaults` or the CLI: they render what `analysis`, `store` and `ui`
give them.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PKG = "mosecrot_viz"
LAYERS = {  # top-level part of a module name -> layer (higher imports lower)
    "errors": 0, "atomic": 0, "paths": 0, "records": 0, "": 0,
    "io": 1, "core": 2, "defaults": 2, "experiment": 3, "analysis": 4, "store": 4, "ui": 5,
    "cli": 6, "bench": 6, "__main__": 7, "pages": 6, "app": 7,
}
PAGE_FORBIDDEN = ("core", "io", "defaults", "cli", "bench")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def part(module: str) -> str:
    """The layer key of a module: `mosecrot_viz.core.bli` -> "core", `pages.run` -> "pages", `mosecrot_viz` -> ""."""
    if module.startswith("pages") or module == "app":
        return module.split(".")[0]
    rest = module.split(".")[1:]
    return rest[0] if rest else ""


def imports_of(source: str, module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import of the package in `source`, resolving relative imports and
    `from pkg import submodule` to the submodule."""
    out = []
    package = module.rsplit(".", 1)[0] if "." in module else module
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == PKG]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name.split(".")[0] != PKG:
                continue
            for a in node.names:  # `from mosecrot_viz.io import models` imports the submodule io.models
                sub = f"{name}.{a.name}"
                out.append((node.lineno, sub if _is_module(sub) else name))
    return out


def _is_module(name: str) -> bool:
    p = ROOT.joinpath(*name.split("."))
    return p.with_suffix(".py").exists() or (p / "__init__.py").exists()


def sources() -> dict[str, str]:
    files = list((ROOT / PKG).rglob("*.py")) + list((ROOT / "pages").glob("*.py")) + [ROOT / "app.py"]
    return {module_name(f): f.read_text(encoding="utf-8") for f in files}


def violations(mods: dict[str, str]) -> list[str]:
    """Every upward import, and every page import of a forbidden layer, as 'importer:line -> imported (why)'."""
    bad = []
    for mod, src in mods.items():
        for line, imp in imports_of(src, mod):
            mine, theirs = part(mod), part(imp)
            if mine not in LAYERS or theirs not in LAYERS:
                bad.append(f"{mod}:{line} -> {imp} (a module outside the layer table: add it to LAYERS and the doc)")
            elif LAYERS[theirs] > LAYERS[mine]:
                bad.append(f"{mod}:{line} -> {imp} (upward: {mine} is below {theirs})")
            elif mine == "pages" and theirs in PAGE_FORBIDDEN:
                bad.append(f"{mod}:{line} -> {imp} (a page imports {theirs}: pages only render)")
    return bad


def cycles(mods: dict[str, str]) -> list[list[str]]:
    """Import cycles among the package's own modules (module-level and function-level imports alike)."""
    graph = {m: {i for _, i in imports_of(s, m) if i in mods and i != m} for m, s in mods.items()}
    for m in list(graph):  # importing a submodule runs its package's __init__ first; those hold no imports here
        graph[m] = {i for i in graph[m] if i != PKG}
    found, state, stack = [], {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                found.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    return found


def test_every_import_goes_down_the_layers():
    assert violations(sources()) == []


def test_no_import_cycles():
    assert cycles(sources()) == []


@pytest.mark.parametrize("importer, source, why", [
    ("mosecrot_viz.core.mappers", "from mosecrot_viz.experiment.pipeline import run_experiment\n", "upward"),
    ("mosecrot_viz.io.vectors", "from ..defaults import registry\n", "upward"),  # relative, resolved
    ("mosecrot_viz.experiment.config", "def f():\n    from mosecrot_viz.store.runs import runs_root\n", "upward"),
    ("pages.setup", "from mosecrot_viz.io.text import segment\n", "pages only render"),
    ("mosecrot_viz.core.mappers", "from mosecrot_viz.newlayer import x\n", "outside the layer table"),
])
def test_the_check_catches_an_upward_import(importer, source, why):
    """A deliberately wrong import in a copy of the sources is reported (the check is not vacuous)."""
    mods = {**sources(), importer: source}
    assert any(why in v and v.startswith(importer) for v in violations(mods)), violations(mods)


def test_the_check_catches_a_cycle():
    mods = {**sources()}
    mods["mosecrot_viz.core.mappers"] += "\ndef _f():\n    from mosecrot_viz.core.bli import bli\n"
    mods["mosecrot_viz.core.bli"] += "\ndef _g():\n    from mosecrot_viz.core.mappers import MAPPERS\n"
    assert any({"mosecrot_viz.core.mappers", "mosecrot_viz.core.bli"} <= set(c) for c in cycles(mods))


def _doc_tree() -> dict[str, set[str]]:
    """folder (relative to the repo) -> the .py files docs/ARCHITECTURE.md's tree lists in it."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    block = text.split("## The tree", 1)[1].split("```", 2)[1]
    listed: dict[str, set[str]] = {}
    stack: list[tuple[int, str]] = []
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        head = line.strip().split("  ")[0].strip()
        if indent >= 28:  # a wrapped description, not an entry
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        folder = "/".join(name for _, name in stack)
        if head.endswith("/"):
            stack.append((indent, head.rstrip("/")))
        for name in (n.strip() for n in head.split(",")):
            if name.endswith(".py"):
                listed.setdefault(folder, set()).add(name)
    return listed


def test_the_architecture_doc_lists_every_module_where_it_is():
    """docs/ARCHITECTURE.md's tree names every module of the package in its folder, and nothing that is not there."""
    listed = _doc_tree()
    actual: dict[str, set[str]] = {}
    for f in (ROOT / PKG).rglob("*.py"):
        rel = f.relative_to(ROOT)
        if f.name != "__init__.py" or rel.parent == Path(PKG):
            actual.setdefault(str(rel.parent), set()).add(f.name)
    actual[str(Path(PKG))].discard("__init__.py")
    listed.get(PKG, set()).discard("__init__.py")
    for folder, names in actual.items():
        assert names == listed.get(folder, set()) - {"__init__.py"}, (folder, names ^ listed.get(folder, set()))
    assert set(listed) - {""} <= set(actual) | {PKG}, set(listed) - set(actual)


def test_the_layer_picture_names_every_layer_of_the_test():
    """The doc's layer picture names each folder and base module this test's LAYERS knows, and no other."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    picture = text.split("```", 2)[1]
    named = set()
    for line in picture.splitlines():
        entry = line.strip().split("  ")[0]  # "mosecrot_viz/errors.py, atomic.py, paths.py" before its description
        if entry.startswith(f"{PKG}/"):
            for name in entry[len(PKG) + 1:].split(","):
                named.add(name.strip().rstrip("/").removesuffix(".py"))
    packages = {k for k in LAYERS if k and k not in ("pages", "app", "__main__")}
    assert named == packages, named ^ packages
