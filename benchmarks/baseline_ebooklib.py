"""The bare-ebooklib baseline: the same chapters written by a minimal ebooklib script (no checks, no cover)."""

from __future__ import annotations

import sys
from pathlib import Path

from ebooklib import epub
from markdown_it import MarkdownIt


def main(edition: Path, target: Path) -> None:
    parser = MarkdownIt("commonmark")
    book = epub.EpubBook()
    book.set_identifier("bench")
    book.set_title("基准日报")
    book.set_language("zh-CN")
    chapters = []
    for path in sorted(edition.rglob("a*.md")):
        text = path.read_text(encoding="utf-8")
        front, body = text.split("---\n", 2)[1:]
        title = next(line.split(":", 1)[1].strip().strip('"') for line in front.splitlines() if line.startswith("title"))
        chapter = epub.EpubHtml(title=title, file_name=f"{path.stem}.xhtml", lang="zh-CN")
        chapter.content = f"<h1>{title}</h1>" + parser.render(body)
        book.add_item(chapter)
        chapters.append(chapter)
        for picture in path.parent.glob(f"p{path.stem[1:]}.jpg"):
            book.add_item(epub.EpubItem(file_name=picture.name, media_type="image/jpeg", content=picture.read_bytes()))
    book.toc = chapters
    book.spine = ["nav", *chapters]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    epub.write_epub(str(target), book)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
