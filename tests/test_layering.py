"""Data flows one way: model ← ingest ← render ← backends; the model imports nothing of broadsheet,
and backends take what render made through ``rendered`` (the contract between them), not the renderer."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "broadsheet"

# For each layer, the broadsheet modules it must never import.
FORBIDDEN = {
    "model": {"config", "ingest", "render", "backends", "cli", "check", "output"},
    "config": {"ingest", "render", "backends", "cli"},
    "ingest": {"render", "backends", "cli"},
    "render": {"ingest", "backends", "cli"},
    "backends": {"ingest", "cli"},
    "transform": {"render", "backends", "cli", "check", "output"},
}


def modules_imported_by(path: Path) -> set[str]:
    """Every broadsheet module ``path`` imports, dotted below the package (``render.cache``), wherever the
    import statement stands: at module level, in a function, under ``TYPE_CHECKING``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package_parts = path.relative_to(PACKAGE).parts[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package_parts[: len(package_parts) - node.level + 1])
                target = base + (node.module.split(".") if node.module else [])
            elif node.module == "broadsheet" or (node.module or "").startswith("broadsheet."):
                target = node.module.split(".")[1:]
            else:
                continue
            for alias in node.names:  # ``from . import limits`` imports a module; ``from . import build`` a name
                module = ".".join([*target, alias.name])
                found.add(module if _is_module(module) else ".".join(target))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("broadsheet."):
                    found.add(alias.name.removeprefix("broadsheet."))
    return found


def _is_module(dotted: str) -> bool:
    path = PACKAGE.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_of(path: Path) -> set[str]:
    """The top-level broadsheet modules and packages ``path`` imports."""
    return {name.split(".")[0] for name in modules_imported_by(path)}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_earlier_stages(layer):
    paths = [PACKAGE / f"{layer}.py"] if (PACKAGE / f"{layer}.py").exists() else sorted((PACKAGE / layer).rglob("*.py"))
    assert paths
    for path in paths:
        bad = imports_of(path) & FORBIDDEN[layer]
        assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"


def test_model_knows_nothing_of_output_formats():
    source = (PACKAGE / "model.py").read_text(encoding="utf-8").lower()
    for word in ("ebooklib", "weasyprint", "xhtml", "epub", "jinja"):
        assert word not in source.replace("xhtml fragment", ""), word


#: Modules that depend on nothing of broadsheet but other leaves.
LEAVES = {"model", "errors", "files", "rendered", "names", "paper", "lang", "xhtml", "limits", "version"}

def test_rendered_imports_only_leaves():
    imported = imports_of(PACKAGE / "rendered.py")
    assert imported <= LEAVES - {"rendered"}, f"rendered.py imports {sorted(imported - LEAVES)}"


@pytest.mark.parametrize("leaf", sorted(LEAVES))
def test_leaves_import_only_leaves(leaf):
    imported = imports_of(PACKAGE / f"{leaf}.py")
    assert imported <= LEAVES, f"{leaf}.py imports {sorted(imported - LEAVES)}"


def test_backends_take_the_rendered_contract_not_the_renderer():
    paths = sorted((PACKAGE / "backends").rglob("*.py"))
    assert paths
    for path in paths:
        from_render = {m for m in modules_imported_by(path) if m == "render" or m.startswith("render.")}
        assert not from_render, f"{path.relative_to(PACKAGE)} imports {sorted(from_render)}"


def backend_modules() -> dict[str, set[str]]:
    """Each module of ``backends`` (dotted below the package, a package by its own name) and the modules of
    ``backends`` it imports."""
    paths = {}
    for path in sorted((PACKAGE / "backends").rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return {name: {m for m in modules_imported_by(path) if m in paths} for name, path in paths.items()}


def reached_from(graph: dict[str, set[str]], start: str) -> set[str]:
    """``start`` and every module it imports, directly or not, with the packages they live in (Python
    imports a module's packages before it)."""
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parents = [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)]
        todo.extend(graph.get(name, set()) | {p for p in parents if p in graph})
    return seen


def test_no_import_circle_among_the_backends():
    graph = backend_modules()
    assert "backends.pdf.scheduler" in graph and "backends.processes" in graph
    for name, imported in graph.items():
        for other in imported:
            back = reached_from(graph, other) - {p for p in graph if name.startswith(p + ".")}
            assert name not in back, f"{name} imports {other}, which imports {name} again"


def test_the_process_harness_knows_no_backend():
    """The fork server preloads the module its caller names: it imports nothing of what its workers run."""
    path = PACKAGE / "backends" / "processes.py"
    imported = {m for m in modules_imported_by(path) if m.startswith("backends")}
    assert not imported, f"backends/processes.py imports {sorted(imported)}"
    source = path.read_text(encoding="utf-8")
    assert "backends.pdf" not in source and "backends.epub" not in source


@pytest.mark.parametrize("module", ["backends.pdf.layout", "backends.pdf.preload"])
def test_a_layout_process_does_not_load_the_scheduler(module):
    reached = reached_from(backend_modules(), module)
    assert "backends.pdf.layout" in reached
    assert not reached & {"backends.pdf.scheduler", "backends.pdf.backend"}, sorted(reached)


def test_the_walk_finds_a_circle(tmp_path, monkeypatch):
    folder = tmp_path / "backends"
    folder.mkdir()
    (folder / "__init__.py").write_text("", encoding="utf-8")
    (folder / "a.py").write_text("from . import b\n", encoding="utf-8")
    (folder / "b.py").write_text("def f():\n    from .a import x\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path)
    graph = backend_modules()
    assert graph == {"backends": set(), "backends.a": {"backends.b"}, "backends.b": {"backends.a"}}
    assert "backends.a" in reached_from(graph, "backends.b")


def test_importing_the_backends_imports_no_backend():
    code = ("import json, sys, broadsheet.backends as b; assert sorted(b.BACKENDS) == ['epub', 'html', 'pdf'];"
            "print(json.dumps(sorted(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(result.stdout))
    assert not {m for m in loaded if m.startswith(("broadsheet.backends.", "weasyprint", "ebooklib", "pikepdf"))}


def test_the_renderer_still_offers_the_contract_it_used_to_define():
    import broadsheet.render as render
    import broadsheet.rendered as rendered

    for name in rendered.__all__:
        assert getattr(render, name) is getattr(rendered, name), name


def test_the_import_walk_sees_imports_inside_functions(tmp_path, monkeypatch):
    folder = tmp_path / "backends"
    folder.mkdir()
    probe = folder / "probe.py"
    probe.write_text("def f():\n    from ..render import theme\n    from ..render.cache import seal\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path)
    assert modules_imported_by(probe) == {"render", "render.cache"}


def test_names_is_a_leaf_of_the_standard_library():
    path = PACKAGE / "names.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert not node.level, f"names.py imports .{node.module or ''}"
            modules = [node.module or ""]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        for module in modules:
            top = module.split(".")[0]
            assert top == "__future__" or top in sys.stdlib_module_names, f"names.py imports {module}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """Every module of the package → the modules of the package it imports (a package counts as its
    ``__init__``), wherever the import statement stands."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}

    def owner(dotted: str) -> str | None:
        parts = dotted.split(".") if dotted else []
        while parts:
            if ".".join(parts) in modules:
                return ".".join(parts)
            parts.pop()
        return ""  # the package root

    return {name: {owner(m) for m in modules_imported_by(path)} - {name} for name, path in modules.items()}


def test_nothing_imports_the_package_root():
    """The root only re-exports (lazily): a module that imported it would load the whole public API."""
    importers = sorted(name for name, imported in import_graph().items() if "" in imported)
    assert not importers, f"these import the package root: {importers}"


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
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


def test_no_import_circle_anywhere():
    circles = _circles(import_graph())
    assert not circles, f"import circles: {circles}"


def test_the_circle_finder_finds_circles():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


def test_the_package_root_only_re_exports():
    """``__init__`` defines no function but the lazy lookup: the pipeline lives in pipeline.py."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    defined = [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    assert defined == ["__getattr__"]
    import broadsheet

    for name in broadsheet.__all__:
        assert getattr(broadsheet, name) is not None, name
