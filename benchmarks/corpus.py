"""A deterministic synthetic edition for benchmarks: N articles over S sections, Chinese and English,
about one in five with a picture; written as a native edition and as one Markdown file (for pandoc)."""

from __future__ import annotations

import io
import random
from pathlib import Path

ZH = ["推进基层治理现代化", "黄河流域生态保护", "城市更新与民生改善", "科技创新引领发展", "乡村振兴的实践探索",
      "营商环境持续优化", "公共文化服务体系", "绿色低碳转型之路"]
EN = ["harbour", "council", "ferry", "budget", "school", "museum", "market", "weather", "bridge", "library"]


def _picture(rng: random.Random, size: tuple[int, int] = (1200, 800)) -> bytes:
    from PIL import Image

    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def _zh_paragraph(rng: random.Random, sentences: int = 6) -> str:
    return "".join(f"{rng.choice(ZH)}，{rng.choice(ZH)}取得新进展。" for _ in range(sentences))


def _en_paragraph(rng: random.Random, length: int = 60) -> str:
    words = [rng.choice(EN) for _ in range(length)]
    return (" ".join(words) + ".").capitalize()


def make_corpus(root: Path, articles: int, sections: int = 8, seed: int = 1) -> tuple[Path, Path]:
    """Write the edition; return (native edition folder, single Markdown file)."""
    rng = random.Random(seed)
    edition = root / f"edition-{articles}"
    issue = edition / "2026-01-01"
    issue.mkdir(parents=True)
    (edition / "broadsheet.toml").write_text('[publication]\ntitle = "基准日报"\nlanguage = "zh-CN"\nid = "bench"\n',
                                             encoding="utf-8")
    names = [f"第{n + 1}版" for n in range(sections)]
    (issue / "issue.toml").write_text("sections = [" + ", ".join(f'{{ name = "{n}", page = "{i + 1:02d}" }}'
                                                               for i, n in enumerate(names)) + "]\n", encoding="utf-8")
    single = [f"% 基准日报\n"]
    for n in range(articles):
        chinese = n % 2 == 0
        title = f"{rng.choice(ZH)}（{n + 1}）" if chinese else f"The {rng.choice(EN)} report ({n + 1})"
        paragraphs = [(_zh_paragraph if chinese else _en_paragraph)(rng) for _ in range(rng.randint(4, 9))]
        picture = ""
        if rng.random() < 0.2:
            (issue / f"p{n:05d}.jpg").write_bytes(_picture(rng))
            picture = f"![picture {n}](p{n:05d}.jpg)\n\n"
        section = names[n % sections]
        lang = "" if chinese else "lang: en\n"
        (issue / f"a{n:05d}.md").write_text(
            f"---\ntitle: \"{title}\"\nsection: {section}\norder: {n}\n{lang}---\n\n{picture}"
            + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
        single.append(f"\n# {title}\n\n{picture.replace('(p', '(' + str(issue) + '/p')}" + "\n\n".join(paragraphs) + "\n")
    markdown = root / f"edition-{articles}.md"
    markdown.write_text("".join(single), encoding="utf-8")
    return edition, markdown
