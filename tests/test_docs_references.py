"""The documentation cites only files the repository holds, and says how to run what it installs."""

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


def test_set_up_says_how_to_run_broadsheet_and_how_long_the_tests_take():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    set_up = text[text.index("## Set-up"):text.index("## Usage")]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "VENV ?= .venv" in makefile and "BIN := $(VENV)/bin" in makefile  # where make installs it
    assert "`.venv/bin/broadsheet" in set_up and "`. .venv/bin/activate`" in set_up
    assert "command not" in set_up  # why a bare `broadsheet` fails in a new shell
    assert re.search(r"`make test` runs .*\d+ minutes", " ".join(set_up.split())), set_up
