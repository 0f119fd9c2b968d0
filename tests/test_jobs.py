"""The PDF's bytes depend on the edition, never on how many layout processes made it."""

from __future__ import annotations

import hashlib
import re

import pytest

from conftest import EN_EXAMPLE, ZH_EXAMPLE, outputs, run_cli
from test_parallel_and_cache import write_edition


def pdf_digests(source, out, jobs: int) -> tuple[dict[str, str], str]:
    result = run_cli("build", source, "-o", out, "-f", "pdf", "--layout", "sections", "--jobs", jobs,
                     "--no-cache", "-v")
    assert result.returncode == 0, result.stderr
    pdfs = [p for p in outputs(out) if p.suffix == ".pdf"]
    assert pdfs and not (out / ".broadsheet-cache").exists()
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in pdfs}, result.stderr


@pytest.mark.parametrize("name", ["examples", "synthetic"])
def test_jobs_1_2_and_3_give_the_same_bytes(tmp_path, name):
    if name == "examples":
        sources = [ZH_EXAMPLE, EN_EXAMPLE]
    else:
        sources = [write_edition(tmp_path)]
    for source in sources:
        runs = {jobs: pdf_digests(source, tmp_path / f"{source.name}-{jobs}", jobs) for jobs in (1, 2, 3)}
        digests = {jobs: digest for jobs, (digest, _) in runs.items()}
        assert digests[1] == digests[2] == digests[3], digests
        if name == "synthetic":  # large enough to be cut into parts, with any number of processes
            for jobs, (_, stderr) in runs.items():
                found = re.search(r"(\d+) parts laid out \((\d+) at a time\)", stderr)  # all of them: a fresh folder
                assert found and "cache" not in stderr, stderr
                assert int(found.group(1)) >= 5 and 1 <= int(found.group(2)) <= jobs
