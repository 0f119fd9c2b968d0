"""README's module map (the block under "src/broadsheet/" in Development) names what the tree holds, and only that."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "broadsheet"


def module_map() -> dict[str, str]:
    """Entry (``model.py``, ``render/``) → its description, continuation lines joined."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index("```\nsrc/broadsheet/\n") + len("```\nsrc/broadsheet/\n"):]
    entries: dict[str, str] = {}
    current = None
    for line in block.splitlines():
        if not line.startswith("  "):  # the end of the map: the next top-level folder or the fence
            break
        match = re.match(r"^  (\S+)\s+(.*)$", line)
        if match and not line.startswith("   "):
            current = match.group(1)
            entries[current] = match.group(2)
        elif current is not None:
            entries[current] += " " + line.strip()
    return entries


def test_the_map_names_every_module_and_package_and_nothing_else():
    tree = {p.name for p in PACKAGE.glob("*.py")}
    tree |= {p.name + "/" for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    named = set(module_map())
    assert named == tree, f"missing from README: {sorted(tree - named)}; not in the tree: {sorted(named - tree)}"


def test_each_package_s_description_names_its_modules():
    for entry, description in module_map().items():
        if not entry.endswith("/"):
            continue
        folder = PACKAGE / entry.rstrip("/")
        modules = {p.relative_to(folder).as_posix() for p in folder.rglob("*.py") if p.name != "__init__.py"}
        packages = {p.parent.relative_to(folder).as_posix() + "/" for p in folder.rglob("*/__init__.py")}
        said = set(re.findall(r"\b([a-z_]+(?:/[a-z_]+)*\.py|[a-z_]+/)", description))
        # a module is named as ``name.py`` or, inside a subpackage named ``sub/``, by its name alone
        for module in modules:
            parent = module.rsplit("/", 1)[0] + "/" if "/" in module else None
            name = module.rsplit("/", 1)[-1]
            assert module in said or name in said or (parent in said and name.removesuffix(".py") in description), \
                f"{entry}{module} is not in README's module map"
        for package in packages:
            assert package in said, f"{entry}{package} is not in README's module map"
        for mentioned in said:
            if mentioned.endswith(".py"):
                assert any(m == mentioned or m.endswith("/" + mentioned) for m in modules), \
                    f"README's module map names {entry}{mentioned}, which is not in the tree"
