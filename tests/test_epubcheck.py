"""The EPUBCheck the tests rely on: one JVM for many books must say what the command line says."""

from __future__ import annotations

import zipfile

from broadsheet.check.epubcheck import EpubCheckServer, run_epubcheck
from conftest import outputs


def test_the_epubcheck_server_agrees_with_the_command_line(demo_build, tmp_path):
    good = next(p for p in outputs(demo_build) if p.name.startswith("harbour") and p.suffix == ".epub")
    bad = tmp_path / "bad.epub"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bad, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.endswith("ferry.xhtml"):
                data = data.replace(b"</p>", b"", 1)  # malformed XHTML
            if item.filename.endswith(".opf"):
                data = data.replace(b"<dc:language>", b"<dc:language>xx-", 1)  # a bad language tag
            target.writestr(item, data)
    server = EpubCheckServer()
    try:
        verdicts = [server.check(book) for book in (good, bad, good, bad)]
    finally:
        server.close()
    assert not server.failed  # answered by the server, not by the fallback
    reference = run_epubcheck(bad)
    assert {m.id for m in reference.errors} >= {"OPF-092", "RSC-005"}
    assert verdicts[1].messages == verdicts[3].messages == reference.messages
    assert verdicts[0].messages == verdicts[2].messages == run_epubcheck(good).messages == ()
