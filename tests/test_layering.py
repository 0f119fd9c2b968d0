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
                if not node.module:
                    target += [alias.name for alias in node.names][:1]
                found.add(".".join(target))
            elif node.module and node.module.startswith("broadsheet."):
                found.add(node.module.removeprefix("broadsheet."))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("broadsheet."):
                    found.add(alias.name.removeprefix("broadsheet."))
    return found


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
LEAVES = {"model", "errors", "files", "rendered", "names"}

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
