"""A deterministic fixture archive: 7 daily issues of a Chinese paper, 3 sections each, with reprints.

Article 理论 of 2024-05-02 is reprinted with small edits on 2024-05-04 (理论) and 2024-05-06 (文化).
"""

from __future__ import annotations

import random
from pathlib import Path

PHRASES = [
    "基层党组织建设", "乡村振兴战略", "城市更新行动", "科技创新驱动", "黄河流域生态保护", "高质量发展",
    "民生保障体系", "数字经济发展", "文化遗产保护", "营商环境优化", "教育强国建设", "医疗卫生服务",
    "粮食安全责任", "绿色低碳转型", "社会治理创新", "人才引进政策", "交通基础设施", "公共文化服务",
    "中小企业发展", "农业现代化", "养老服务体系", "就业优先政策", "生态文明建设", "法治政府建设",
]
VERBS = ["推进", "加强", "完善", "落实", "深化", "统筹", "提升", "巩固"]
TAIL = ["取得明显成效", "迈出坚实步伐", "形成良好态势", "得到群众认可", "积累了宝贵经验", "仍需持续用力"]
SECTIONS = [("要闻", "01"), ("文化", "08"), ("理论", "15")]
DATES = [f"2024-05-0{d}" for d in range(1, 8)]
TAGS = ["党建", "经济", "文化", "民生", "生态"]


def sentence(rng: random.Random) -> str:
    return f"{rng.choice(VERBS)}{rng.choice(PHRASES)}，{rng.choice(VERBS)}{rng.choice(PHRASES)}，{rng.choice(TAIL)}。"


def paragraphs(rng: random.Random, count: int = 5) -> list[str]:
    return ["".join(sentence(rng) for _ in range(4)) for _ in range(count)]


def write_article(path: Path, title: str, section: str, tags: list[str], body: list[str], order: int) -> None:
    path.write_text(
        f"---\ntitle: {title}\nsection: {section}\norder: {order}\ntags: [{', '.join(tags)}]\n---\n\n"
        + "\n\n".join(body) + "\n", encoding="utf-8")


def make_archive(root: Path) -> Path:
    """Write the archive under ``root`` and return its publication folder."""
    rng = random.Random(20240501)
    pub = root / "archive"
    pub.mkdir(parents=True)
    (pub / "broadsheet.toml").write_text(
        '[publication]\ntitle = "河洛日报"\nlanguage = "zh-CN"\nid = "hlrb"\n', encoding="utf-8")
    reprint = None
    for day, date in enumerate(DATES, start=1):
        folder = pub / date
        folder.mkdir()
        sections = ", ".join(f'{{ name = "{n}", page = "{p}" }}' for n, p in SECTIONS)
        (folder / "issue.toml").write_text(f"date = {date}\nnumber = \"{1000 + day}\"\nsections = [{sections}]\n",
                                           encoding="utf-8")
        for s, (section, _) in enumerate(SECTIONS):
            for n in range(2):
                title = f"{date[5:]}{section}第{n + 1}篇：{rng.choice(PHRASES)}"
                tags = sorted({TAGS[(day + s + n) % len(TAGS)], TAGS[(day * 2 + n) % len(TAGS)]})
                body = paragraphs(rng)
                if date == "2024-05-02" and section == "理论" and n == 0:
                    title, tags = "坚持以人民为中心推进基层治理", ["党建", "民生"]
                    reprint = body
                write_article(folder / f"{section}-{n + 1}.md", title, section, tags, body, n)
        if reprint and date in ("2024-05-04", "2024-05-06"):
            edited = list(reprint)
            edited[2] = edited[2][:-1] + "，各项工作稳步推进。"  # a small edit
            if date == "2024-05-06":
                edited[4] = sentence(rng) + edited[4][20:]
            section = "理论" if date == "2024-05-04" else "文化"
            write_article(folder / f"{section}-reprint.md", "坚持以人民为中心推进基层治理", section,
                          ["党建", "民生"], edited, 5)
    return pub
