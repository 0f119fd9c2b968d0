"""Words and date formats that the templates print, by language."""

from __future__ import annotations

import datetime as dt

from ..lang import is_chinese, no_word_spaces, primary

_LABELS = {
    "zh": {
        "contents": "目录", "cover": "封面", "start": "正文", "page": "第{page}版",
        "number": "第{number}期", "section_with_page": "第{page}版 {name}", "articles": "本版文章",
        "weekdays": "一二三四五六日", "pages": "版面", "picture": "配图：{title}",
        "print_edition": "{publication} {date} 印刷版",
        "summary": "{publication}{date}的数字版：按版面编排的文章，附目录与印刷版页码。",
        "summary_pictures": "图片均有文字说明。",
    },
    "ja": {
        "contents": "目次", "cover": "表紙", "start": "本文", "page": "{page}面",
        "number": "第{number}号", "section_with_page": "{page}面 {name}", "articles": "記事",
        "weekdays": "月火水木金土日", "pages": "紙面", "picture": "写真：{title}",
        "print_edition": "{publication} {date} 紙面",
        "summary": "{publication}{date}のデジタル版：紙面ごとの記事、目次と紙面ナビゲーション。",
        "summary_pictures": "写真には説明文があります。",
    },
    "en": {
        "contents": "Contents", "cover": "Cover", "start": "Start", "page": "Page {page}",
        "number": "No. {number}", "section_with_page": "{name} · page {page}", "articles": "In this section",
        "weekdays": "", "pages": "Pages", "picture": "Picture: {title}",
        "print_edition": "{publication}, print edition of {date}",
        "summary": "The digital edition of {publication}{date}: articles by section, with a table of contents "
                   "and print page navigation.",
        "summary_pictures": " Every picture has a text description.",
    },
}
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def labels_for(lang: str) -> dict[str, str]:
    return _LABELS.get(primary(lang), _LABELS["en"])


def format_date(date: dt.date | None, lang: str) -> str:
    """Return the date as a newspaper prints it in ``lang``."""
    if date is None:
        return ""
    if no_word_spaces(lang):
        weekday = labels_for(lang)["weekdays"][date.weekday()]
        prefix = "星期" if is_chinese(lang) else ""
        suffix = "" if is_chinese(lang) else "曜日"
        return f"{date.year}年{date.month}月{date.day}日 {prefix}{weekday}{suffix}"
    return f"{_DAYS[date.weekday()]}, {date.day} {_MONTHS[date.month - 1]} {date.year}"


def section_label(name: str, page: str | None, lang: str) -> str:
    if not page:
        return name
    return labels_for(lang)["section_with_page"].format(page=page, name=name)


def number_label(number: str | None, lang: str) -> str:
    if not number:
        return ""
    if not number.isdigit():
        return number
    return labels_for(lang)["number"].format(number=number)
