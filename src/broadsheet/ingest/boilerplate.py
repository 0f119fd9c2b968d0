"""What extractors leave around an article's text: promotions, share and comment interface, editors' lines.

The phrases are data (the tables below): lines that are never text wherever they stand, lines that close a page
(a newsletter offer, 关注…公众号, a copyright line) and are dropped only from the end of the text, and the lines
that open it (the page's address, the headline again).  Credits (本报记者 王小明, 责任编辑：李青, 来源：新华社) are
read with :mod:`broadsheet.ingest.credits`, the rules every ingester shares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import Block, Figure, Heading, ListBlock, Paragraph, Quote
from . import credits
from .html import inline_from_text

# ---------------------------------------------------------------- the tables

#: Lines that are interface or advertising wherever they stand (the whole line matches).
ANYWHERE = (
    r"advertisement", r"advertising", r"sponsored( content)?", r"story continues below( advertisement)?",
    r"continue reading( below)?", r"scroll (down )?to continue", r"image copyright .{0,80}",
    r"(see|read) more\s*:.{0,160}", r"related( articles?| stories| coverage| content)?\s*:.{0,160}",
    r"don'?t miss:?", r"more on this story:?", r"recommended:?", r"most (read|popular|viewed):?",
    r"share (this|on \w+)( article| story| page)?:?", r"share:?", r"tweet", r"email", r"print", r"pin it",
    r"(\d+\s+)?comments?", r"(leave|post|add) a (comment|reply)", r"\[(insight|reaction|video|pictures?|poll)\]\|?",
    r"\[\w+(\s[^\]]*)?\].{0,200}\[/\w+\]",  # a shortcode the site did not expand: [button link=…]…[/button]
    r"广告", r"分享到[:：]?.{0,40}", r"点击(图片|查看大图).{0,20}", r"(责任编辑|責任編輯)\s*[:：].{0,20}",
)
#: The longest interface line (characters): longer is text.
INTERFACE_MAX = 240
#: Lines that close the page (dropped from the end of the text only, and only short ones).
CLOSING = (
    r"^(sign up|subscribe|register)\b", r"\b(sign(ing)? up|subscrib\w*|register\w*)\b.{0,80}\bnewsletters?\b",
    r"\bnewsletters?\b.{0,60}\b(sign up|subscrib\w*|inbox)\b", r"\b(in|to) your inbox\b",
    r"follow (us|him|her|them|\w+) on (twitter|facebook|instagram|linkedin|youtube|tiktok)",
    r"^have a (news )?tip", r"^tell us what you think", r"click here", r"^get access to", r"^read more",
    r"^(©|copyright\b|\(c\) ?\d{4})", r"all rights reserved",
    r"^(more|related|recommended)( stories| articles| from| on)\b.{0,60}$", r"^(tags?|filed under|topics?)\s*:",
    r"^(share( this| on \w+)?|comments?|reply)[\s:()\d]*$", r"^listen to .{0,60} (live|here)",
    r"关注.{0,30}(公众号|微信|微博|头条号|客户端)", r"(长按|扫描|扫码|识别).{0,20}(二维码|关注)", r"二维码",
    r"阅读原文", r"点击.{0,20}(关注|订阅|阅读|查看)", r"(欢迎|敬请)(转发|分享|点赞|关注)",
    r"^(点赞|在看|分享|转发|收藏)([\s|丨/、]*(点赞|在看|分享|转发|收藏))*$", r"(版权|著作权)(所有|归|声明)",
    r"未经.{0,20}(授权|许可).{0,20}(转载|使用)", r"转载请?(注明|联系)", r"免责声明", r"投稿(邮箱|请)", r"(更多|往期)(精彩|推荐|阅读)",
    r"^(来源|來源|稿源|编辑|編輯|责编|責編|校对|审核|审校|监制|出品|制作)\s*[:：|丨]",
)
#: The longest closing line (characters): longer is text, whatever words it holds.
CLOSING_MAX = 240
#: Source lines: 来源：新华社 is the article's credit, not its text.
SOURCE = r"^(?:来源|來源|稿源|文章来源|本文来源)\s*[:：丨|]\s*(?P<source>.{1,30})$"

# ---------------------------------------------------------------- compiled from the tables

_ANYWHERE = re.compile(r"^(?:" + "|".join(ANYWHERE) + r")[\s.:!|]*$", re.I)
_CLOSING = re.compile("|".join(f"(?:{c})" for c in CLOSING), re.I)
_SOURCE = re.compile(SOURCE)
_BRACKETED = re.compile(r"^[【〔\[]\s*(.{2,46}?)\s*[】〕\]]$")
_URL = re.compile(r"^(?:https?://|www\.)\S+$", re.I)
_SPACE = re.compile(r"\s+")


@dataclass
class Tidied:
    blocks: tuple[Block, ...]
    credit: credits.Credit | None = None  # bylines found in the text's opening or closing lines
    source: str | None = None  # 来源：… when no byline names the article's author
    dateline: str | None = None  # 新华社北京6月2日电, taken from the opening of the text


def block_text(block: Block) -> str | None:
    """The plain text of a block of text (None for a picture or a rule)."""
    if isinstance(block, (Paragraph, Heading)):
        return block.content.text
    if isinstance(block, Quote):
        return " ".join(p.text for p in block.paragraphs)
    if isinstance(block, ListBlock):
        return "\n".join(i.text for i in block.items)
    return None


def _normal(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


def is_interface(text: str) -> bool:
    """A line that is interface or advertising wherever it stands."""
    text = text.strip()
    return len(text) <= INTERFACE_MAX and bool(_ANYWHERE.match(text))


def is_closing(text: str) -> bool:
    """A line that closes a page: a promotion, a copyright or an editor's line."""
    text = text.strip()
    return len(text) <= CLOSING_MAX and bool(_CLOSING.search(text))


def tidy(blocks: tuple[Block, ...], title: str | None) -> Tidied:
    """Drop interface lines everywhere, the page's address and the headline from the opening, promotions and
    credits from the end; return the blocks left and the credits read from the lines taken out."""
    found: list[credits.Credit] = []
    source: str | None = None
    dateline: str | None = None
    kept: list[Block] = []
    for block in blocks:
        text = block_text(block)
        if text is not None and text.strip() and is_interface(text):
            continue
        kept.append(block)
    # the opening: the page's address, the headline again, credit lines
    title_key = _normal(title or "")
    while kept:
        text = block_text(kept[0])
        if text is None or isinstance(kept[0], (ListBlock, Quote)):
            break
        line = text.strip()
        if _URL.match(line) or (title_key and _normal(line) == title_key):
            kept.pop(0)
            continue
        credit, line_source = _credit(line)
        if credit is None and line_source is None:
            opened = credits.opening(line) if isinstance(kept[0], Paragraph) else None
            if opened is not None and opened[1].strip():  # 新华社北京6月2日电（记者 王五）…: the text goes on
                found.append(opened[0])
                dateline = opened[0].dateline
                kept[0] = Paragraph(content=inline_from_text(opened[1].strip()))
            break
        found.append(credit) if credit is not None else None
        source = source or line_source
        kept.pop(0)
    # the end: promotions, copyright, credits (figures and empty lines among them go too)
    end = len(kept)
    while end > 0:
        block = kept[end - 1]
        text = block_text(block)
        if text is None:
            if isinstance(block, Figure) and end < len(kept):
                end -= 1  # a picture among the closing lines belongs to them (a QR code, a banner)
                continue
            break
        line = text.strip()
        if not line or is_closing(line):
            match = _SOURCE.match(line)
            source = source or (match.group("source").strip() if match else None)
            end -= 1
            continue
        credit, line_source = _credit(line)
        if credit is None and line_source is None:
            break
        found.append(credit) if credit is not None else None
        source = source or line_source
        end -= 1
    kept = kept[:end]
    if not any(isinstance(b, Paragraph) for b in kept):
        return Tidied(blocks=blocks)  # nothing would be left: keep the text as read
    authors = [c for c in found if c is not None and not c.editor]
    return Tidied(blocks=tuple(kept), credit=credits.combine(*authors) if authors else None, source=source,
                  dateline=dateline)


def _credit(line: str) -> tuple[credits.Credit | None, str | None]:
    """(credit, source) a short line is, or (None, None) when it is text."""
    match = _SOURCE.match(line)
    if match:
        return None, match.group("source").strip()
    bracketed = _BRACKETED.match(line)  # 【文/观察者网 林小渔】
    credit = credits.credit_line(bracketed.group(1) if bracketed else line, alone=False)
    if credit is not None:
        return credit, None
    closing = credits.closing(line)
    if closing is not None and not closing[1].strip():
        return closing[0], None
    return None, None
