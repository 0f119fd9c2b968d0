"""Shared fixtures: the CLI as a subprocess, EPUBCheck verdicts, PDF and EPUB readers."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
ZH_EXAMPLE = EXAMPLES / "zhengzhou-daily"
EN_EXAMPLE = EXAMPLES / "harbour-gazette"
SEED = ZH_EXAMPLE / "2012-07-06" / "000_06b1db1a1b0bfea8.txt"  # the e-paper text dump, as saved
FIXED_EPOCH = "1700000000"

try:  # property tests explore at random; CI (HYPOTHESIS_PROFILE=ci) replays the same examples every run
    from hypothesis import settings as _hypothesis_settings

    _hypothesis_settings.register_profile("ci", derandomize=True, database=None)
    _hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
except ImportError:  # pragma: no cover - hypothesis is a test dependency
    pass


def run_cli(*args: object, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``python -m broadsheet`` and return the finished process."""
    environment = {**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH, "PYTHONIOENCODING": "utf-8"}
    environment.pop("BROADSHEET_DEBUG", None)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "broadsheet", *map(str, args)],
        capture_output=True, text=True, env=environment, cwd=cwd, timeout=timeout,
    )


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory) -> Path:
    """Build both example editions once, in both formats."""
    out = tmp_path_factory.mktemp("demo")
    result = run_cli("build", ZH_EXAMPLE, EN_EXAMPLE, "--out", out)
    assert result.returncode == 0, result.stderr
    return out


_VERDICTS: dict[str, object] = {}


@pytest.fixture(scope="session")
def epubcheck():
    """Return a function that runs EPUBCheck once per distinct EPUB and returns its verdict
    (in one JVM per test process, which compiles EPUBCheck's schemas once)."""
    from broadsheet.check.epubcheck import EpubCheckServer, EpubCheckUnavailable

    server = EpubCheckServer()

    def check(path: Path):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest not in _VERDICTS:
            try:
                _VERDICTS[digest] = server.check(path)
            except EpubCheckUnavailable as exc:
                pytest.skip(f"EPUBCheck unavailable: {exc}")
        return _VERDICTS[digest]

    yield check
    server.close()


@pytest.fixture(scope="session")
def assert_valid_epub(epubcheck):
    """Assert that EPUBCheck reports 0 errors and 0 warnings."""

    def check(path: Path) -> None:
        verdict = epubcheck(path)
        assert not verdict.errors and not verdict.warnings, f"{path.name}:\n{verdict.summary()}"

    return check


def outputs(folder: Path) -> list[Path]:
    """What a build wrote into ``folder``: everything but the cache of laid-out parts and the editions'
    manifests (``.broadsheet/``)."""
    return sorted(p for p in folder.iterdir() if p.name not in (".broadsheet-cache", ".broadsheet"))


def epub_files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def inspect_cli(*args: object) -> tuple[dict, subprocess.CompletedProcess[str]]:
    """Run ``broadsheet inspect ARGS --json``; return the model and the finished process."""
    import json

    result = run_cli("inspect", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result
