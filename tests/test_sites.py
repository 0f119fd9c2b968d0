"""Web sources from many sites in one folder, and several feeds of one site: grouped by site, each entry once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import inspect_cli, run_cli

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sites"
PARAGRAPHS = [
    "The council met on Tuesday evening to discuss the plans for the new harbour wall and the ferry terminal.",
    "Residents raised concerns about the cost of the work and the disruption it would bring to the fishing fleet.",
    "A decision is expected at the next meeting, which will be held in the town hall in April.",
]


def page(site: str | None, title: str, date: str | None, shift: int = 0, lang: str = "en") -> str:
    meta = f'<meta property="og:site_name" content="{site}">' if site else ""
    when = f'<meta property="article:published_time" content="{date}T08:00:00Z">' if date else ""
    paragraphs = PARAGRAPHS[shift:] + PARAGRAPHS[:shift]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title} | {site}</title>{meta}'
            f"{when}</head><body><header><nav><a href='/'>Home</a> <a href='/news'>News</a></nav></header>"
            f"<article><h1>{title}</h1>{body}</article>"
            "<footer><p>© 2024 Coastal Media Group Ltd. All rights reserved.</p></footer></body></html>")


def saved_pages(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "a1.html").write_text(page("Harbour Times", "Council debates harbour wall", "2024-03-12"), "utf-8")
    (folder / "a2.html").write_text(page("Harbour Times", "Ferry timetable changes", "2024-03-12", 1), "utf-8")
    (folder / "b1.html").write_text(page("Valley Courier", "Valley school opens new library", "2024-03-11", 2),
                                    "utf-8")
    (folder / "b2.html").write_text(page("Valley Courier", "Farmers market returns to the square", None, 1),
                                    "utf-8")
    return folder


def editions(data) -> dict[str, dict]:
    return {view["publication"]["title"]: view for view in (data if isinstance(data, list) else [data])}


def titles(issue) -> list[str]:
    return [a["title"] for s in issue["sections"] for a in s["articles"]]


def test_pages_of_many_sites_make_one_publication_each(tmp_path):
    folder = saved_pages(tmp_path / "saved")
    data, result = inspect_cli(folder)
    found = editions(data)
    assert set(found) == {"Harbour Times", "Valley Courier"}  # the sites, not the footer's copyright line
    (harbour,) = found["Harbour Times"]["issues"]
    assert harbour["date"] == "2024-03-12"
    assert titles(harbour) == ["Council debates harbour wall", "Ferry timetable changes"]
    dated, undated = found["Valley Courier"]["issues"]
    assert (dated["date"], titles(dated)) == ("2024-03-11", ["Valley school opens new library"])
    assert (undated["date"], titles(undated)) == (None, ["Farmers market returns to the square"])
    # the undated page is named in a warning, not put silently into a dated issue
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "b2.html" in warnings[0] and "undated" in warnings[0]


def test_a_folder_of_undated_pages_is_named_undated(tmp_path):
    folder = tmp_path / "clippings"
    folder.mkdir()
    (folder / "b2.html").write_text(page("Valley Courier", "Farmers market returns to the square", None), "utf-8")
    data, result = inspect_cli(folder)
    (issue,) = data["issues"]
    assert issue["date"] is None and "b2.html" in result.stderr and "undated" in result.stderr
    # a single page named on the command line is not warned about
    data, result = inspect_cli(folder / "b2.html")
    assert data["issues"][0]["date"] is None and "warning" not in result.stderr


def test_a_dated_folder_gives_its_date_to_undated_pages(tmp_path):
    folder = saved_pages(tmp_path / "2024-03-15")
    (folder / "b1.html").unlink()
    data, result = inspect_cli(folder)
    found = editions(data)
    (issue,) = found["Valley Courier"]["issues"]
    assert issue["date"] == "2024-03-15" and "warning" not in result.stderr


def test_one_site_and_a_title_keep_one_publication(tmp_path):
    folder = saved_pages(tmp_path / "saved")
    data, _ = inspect_cli(folder, "--title", "Clippings")
    assert isinstance(data, dict) and data["publication"]["title"] == "Clippings"
    for name in ("b1.html", "b2.html"):
        (folder / name).unlink()
    data, result = inspect_cli(folder)
    assert data["publication"]["title"] == "Harbour Times" and "warning" not in result.stderr


def test_atom_and_rss_of_one_blog_give_each_entry_once(tmp_path):
    rss, atom = FIXTURES / "tide-notes" / "blog.rss", FIXTURES / "tide-notes" / "blog.atom"
    expected = {"Spring tides this week", "The old ferry slip", "Lighthouse open day", "Birds of the mudflats"}
    for sources in ([rss, atom], [atom, rss], [FIXTURES / "tide-notes"]):
        data, _ = inspect_cli(*sources)
        assert isinstance(data, dict) and data["publication"]["title"] == "Tide Notes"
        articles = [a for issue in data["issues"] for s in issue["sections"] for a in s["articles"]]
        assert sorted(a["title"] for a in articles) == sorted(expected), sources
        by_title = {a["title"]: a for a in articles}
        # the full text from the Atom feed, not the RSS feed's summary: the same entry by link, by id
        assert "harbour master" in by_title["Spring tides this week"]["text"]
        assert "until 1952" in by_title["The old ferry slip"]["text"]
        assert "Summary from the feed" in by_title["Birds of the mudflats"]["text"]


def test_epub_of_many_sites_and_feeds_passes_epubcheck(tmp_path, assert_valid_epub):
    folder = saved_pages(tmp_path / "saved")
    for name in ("blog.rss", "blog.atom"):
        shutil.copy(FIXTURES / "tide-notes" / name, folder / name)
    shutil.copy(Path(__file__).resolve().parent / "fixtures" / "encodings" / "ru-koi8-r.xml", folder / "novosti.xml")
    out = tmp_path / "out"
    result = run_cli("build", folder, "--out", out, "-f", "epub")
    assert result.returncode == 0, result.stderr
    epubs = sorted(p.name for p in out.glob("*.epub"))
    # Harbour Times, Valley Courier (dated, undated); the feeds as one publication, a section each
    assert epubs == ["harbour-times-2024-03-12.epub", "tide-notes-2024-03-12.epub", "valley-courier-2024-03-11.epub",
                     "valley-courier-undated.epub"]
    for epub in out.glob("*.epub"):
        assert_valid_epub(epub)
    data, _ = inspect_cli(folder)
    feeds = next(view for view in data if view["publication"]["title"] not in {"Harbour Times", "Valley Courier"})
    languages = {a["title"]: a["lang"] for issue in feeds["issues"] for s in issue["sections"] for a in s["articles"]}
    assert languages["Spring tides this week"] == "en" and set(languages.values()) == {"en", "ru"}
    assert json.dumps(data, ensure_ascii=False).count("Spring tides this week") == 1


def rss(title: str, items: list[tuple[str, str, str | None]]) -> str:
    body = "".join(f"<item><title>{t}</title><guid isPermaLink=\"false\">{g}</guid>"
                   + (f"<link>{link}</link>" if link else "")
                   + f"<description>Text of {t}, as the feed gives it.</description>"
                   "<pubDate>Tue, 12 Mar 2024 07:30:00 +0000</pubDate></item>" for t, g, link in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>{body}'
            "</channel></rss>")


def test_ids_and_texts_are_compared_within_one_site(tmp_path):
    folder = tmp_path / "feeds"
    folder.mkdir()
    # two sites numbering their entries alike, one story syndicated to both under its own link
    (folder / "a.xml").write_text(rss("North Star", [("Storm warning", "1", "https://north.example/1"),
                                                     ("Wire story", "2", "https://north.example/2")]), "utf-8")
    (folder / "b.xml").write_text(rss("South Post", [("Bridge repairs", "1", "https://south.example/1"),
                                                     ("Wire story", "2", "https://south.example/2")]), "utf-8")
    # the same site's second feed, without links: the same entries by id, or by title and text
    (folder / "c.xml").write_text(rss("North Star", [("Storm warning", "1", None), ("Wire story", "x9", None),
                                                     ("Ferry news", "3", None)]), "utf-8")
    data, _ = inspect_cli(folder)
    titles = sorted(a["title"] for issue in data["issues"] for s in issue["sections"] for a in s["articles"])
    assert titles == ["Bridge repairs", "Ferry news", "Storm warning", "Wire story", "Wire story"]
