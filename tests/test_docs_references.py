"""The documentation cites only files the repository holds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# a repository path in backticks: folders and a file name with one of the repository's own suffixes
CITED = re.compile(r"`((?:[\w.-]+/)+[\w.-]+\.(?:md|py|toml|json|css|html|xhtml|txt))`")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_cited_file_is_in_the_repository(document):
    text = document.read_text(encoding="utf-8")
    missing = []
    for path in CITED.findall(text):
        candidates = [ROOT / path, ROOT / "src" / "broadsheet" / path, ROOT / "templates" / path]
        if not any(candidate.exists() for candidate in candidates):
            missing.append(path)
    assert not missing, f"{document.name} cites files that are not in the repository: {missing}"
