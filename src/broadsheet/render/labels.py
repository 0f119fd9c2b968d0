"""Words and date formats that the templates print, by language."""

from __future__ import annotations

import datetime as dt

from ..lang import is_chinese, is_traditional_chinese, no_word_spaces, primary

_LABELS = {
    "zh": {
        "facsimile": "版面图", "facsimile_view": "见本版版面", "facsimile_link": "见第{page}版版面",
        "facsimile_alt": "{page}（{name}）版面图，本版文章：{titles}",
        "contents": "目录", "cover": "封面", "start": "正文", "page": "第{page}版",
        "number": "第{number}期", "section_with_page": "第{page}版 {name}", "articles": "本版文章",
        "weekdays": "一二三四五六日", "pages": "版面", "picture": "配图：{title}",
        "print_edition": "{publication} {date} 印刷版",
        "summary": "{publication}{date}的数字版：按版面编排的文章，附目录与印刷版页码。",
        "summary_pictures": "图片均有文字说明。",
    },
    "zh-Hant": {
        "facsimile": "版面圖", "facsimile_view": "見本版版面", "facsimile_link": "見第{page}版版面",
        "facsimile_alt": "{page}（{name}）版面圖，本版文章：{titles}",
        "contents": "目錄", "cover": "封面", "start": "正文", "page": "第{page}版",
        "number": "第{number}期", "section_with_page": "第{page}版 {name}", "articles": "本版文章",
        "weekdays": "一二三四五六日", "pages": "版面", "picture": "配圖：{title}",
        "print_edition": "{publication} {date} 印刷版",
        "summary": "{publication}{date}的電子版：按版面編排的文章，附目錄與印刷版頁碼。",
        "summary_pictures": "圖片均有文字說明。",
    },
    "ja": {
        "facsimile": "紙面", "facsimile_view": "紙面を見る", "facsimile_link": "{page}面の紙面を見る",
        "facsimile_alt": "{page}（{name}）の紙面。記事：{titles}",
        "contents": "目次", "cover": "表紙", "start": "本文", "page": "{page}面",
        "number": "第{number}号", "section_with_page": "{page}面 {name}", "articles": "記事",
        "weekdays": "月火水木金土日", "pages": "紙面", "picture": "写真：{title}",
        "print_edition": "{publication} {date} 紙面",
        "summary": "{publication}{date}のデジタル版：紙面ごとの記事、目次と紙面ナビゲーション。",
        "summary_pictures": "写真には説明文があります。",
    },
    "ko": {
        "facsimile": "지면 보기", "facsimile_view": "지면 보기", "facsimile_link": "{page}면 지면 보기",
        "facsimile_alt": "{page}({name}) 지면. 기사: {titles}",
        "contents": "차례", "cover": "표지", "start": "본문", "page": "{page}면",
        "number": "제{number}호", "section_with_page": "{page}면 {name}", "articles": "이 면의 기사",
        "weekdays": "월화수목금토일", "pages": "지면", "picture": "사진: {title}",
        "print_edition": "{publication} {date} 지면",
        "summary": "{publication}{date} 디지털판: 지면별 기사와 차례, 인쇄판 쪽 번호.",
        "summary_pictures": " 모든 사진에 설명이 있습니다.",
    },
    "en": {
        "facsimile": "Page view", "facsimile_view": "Page view", "facsimile_link": "Page view",
        "facsimile_alt": "{page} ({name}) as printed, with the articles: {titles}",
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
    """The words for ``lang``: Chinese in traditional or simplified characters by its script or region
    (``zh-TW``, ``zh-HK``, ``zh-Hant`` → 目錄), Japanese, Korean, else English."""
    if is_traditional_chinese(lang):
        return _LABELS["zh-Hant"]
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
    if primary(lang) == "ko":
        return f"{date.year}년 {date.month}월 {date.day}일 {labels_for(lang)['weekdays'][date.weekday()]}요일"
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
