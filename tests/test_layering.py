"""Data flows one way: model ← ingest ← render ← backends; the model imports nothing of broadsheet."""

from __future__ import annotations

import ast
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


def imports_of(path: Path) -> set[str]:
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
                found.add(target[0] if target else "")
            elif node.module and node.module.startswith("broadsheet."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("broadsheet."):
                    found.add(alias.name.split(".")[1])
    return found


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
