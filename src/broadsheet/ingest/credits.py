"""Credits: bylines, datelines and author notes, in every form Chinese papers print them.

One set of rules for every ingester (text dumps, saved e-paper pages), in simplified and traditional script:

    本报记者 王小明 见习记者 李青          role words before the names (the paper's name may lead: 郑州晚报记者)
    □刘 冬   ■ 星城日报全媒体记者 王晓明   a bullet before a byline
    网友 一棵白杨   读者 老周                reader contributors under a pen name
    任 平   郑 言                          a commentary pen name alone on its line, letter-spaced
    郑州晚报采编发团队   本报评论部         a desk as author
    文/图 记者 王小明 通讯员 李青   王小明/文 李青/图
    （本报记者 王小明）                     a credit after the text, in brackets
    本报讯（记者 张华）…   本報訊（記者 王小明）…   新华社北京6月2日电（记者 王五）…
    本报讯 记者 王小明 通讯员 李青 记者从…   a dateline's credit without brackets, set off by spaces
    本报福州6月2日电记者王小明报道:…       the dateline form whose credit is inside the first sentence
    【新华社北京十四日电】…                 the archive's dateline in square brackets
    （作者为巩义市小关镇党委书记）           the author note
    ——记优秀教师张敏 本报记者 王小明         a subtitle that carries the byline at its end
    本报记者 郭强 摄                         a picture credit: the byline only when nothing else credits the article

Spaces inside a credit may be any run of ASCII, no-break and ideographic spaces.

The words are data (the tables below); the functions only combine them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ---------------------------------------------------------------- the tables

BULLETS = "□■◎●○△▲◆◇★☆▼"
_CJK = "\u3400-\u9fff\uf900-\ufaff"
#: Spaces as papers print them: ASCII, tab, no-break, en/em and thin spaces (&ensp; &emsp;), ideographic.
SPACES = " \t\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_GAP = f"[{SPACES}]"

#: Who prints the credit: the paper itself, an agency, or a named paper (郑州晚报, 星城日报).
ISSUERS = ("本报", "本報", "本刊", "本台", "本网", "本網", "本社", "新华通讯社", "新華通訊社", "新华社", "新華社", "中新社", "人民网", "人民網")
#: Paper names that may lead a role word: two to eight characters ending in one of these.
PAPER_ENDINGS = ("日报", "晚报", "日報", "晚報", "早报", "早報", "商报", "商報", "时报", "時報", "报社", "報社",
                 "新闻社", "新聞社", "电视台", "電視台", "融媒体中心", "融媒體中心", "报", "報")
#: Words that qualify a role: 全媒体记者, 见习记者, 驻京记者.
QUALIFIERS = ("全媒体", "全媒體", "融媒体", "融媒體", "特约", "特約", "见习", "見習", "实习", "實習", "特派", "首席",
              "资深", "資深", "主任", "高级", "高級")
#: Role words that stand before names.
ROLES = ("摄影记者", "攝影記者", "记者", "記者", "通讯员", "通訊員", "实习生", "實習生", "评论员", "評論員",
         "撰稿人", "撰稿", "撰文", "作者", "摄影", "攝影", "编译", "編譯", "口述", "整理", "策划", "策劃")
#: Editors' roles: a line of them is a credit, but their names are no authors.
EDITORS = ("责任编辑", "責任編輯", "本版编辑", "本版編輯", "版面编辑", "版面編輯", "美术编辑", "美術編輯", "编辑", "編輯",
           "校对", "校對", "审校", "審校", "统筹", "統籌")
#: Roles whose names are pen names (any short run of characters): reader contributors.
CONTRIBUTORS = ("网友", "網友", "读者", "讀者", "市民", "听众", "聽眾", "观众", "觀眾")
#: What a person did, written beside the names: 文/图 王小明, 王小明/文, 王五 摄.
WORK = ("摄影", "攝影", "供图", "供圖", "报道", "報道", "文", "图", "圖", "摄", "攝", "绘", "繪", "漫画", "漫畫")
#: Words after names: 王五摄, 记者王小明报道.
NAME_SUFFIXES = ("报道", "報道", "整理", "供图", "供圖", "摄影", "攝影", "摄", "攝")
#: Desks that sign as authors: 本报评论部, 郑州晚报采编发团队.
DESKS = ("评论部", "評論部", "编辑部", "編輯部", "理论部", "理論部", "采编发团队", "採編發團隊", "采编团队", "採編團隊",
         "团队", "團隊", "工作室", "课题组", "課題組", "调研组", "調研組", "调查组", "調查組", "评论员", "評論員",
         "特约评论员", "特約評論員")
#: Words that follow a role word in headings, not names: 记者手记, 编辑观察.
NOT_NAMES = ("手记", "手記", "观察", "觀察", "调查", "調查", "点评", "點評", "感言", "札记", "札記", "述评", "述評",
             "视点", "視點", "来信", "來信", "专栏", "專欄", "节", "節", "之家", "之声", "之聲", "说", "說", "看",
             "专访", "專訪", "采访", "採訪", "走访", "走訪", "探访", "探訪", "直击", "直擊", "连线", "連線", "体验",
             "體驗", "笔记", "筆記", "日记", "日記", "随笔", "隨筆", "视角", "視角", "故事", "见闻", "見聞", "眼中")
#: Datelines: the paper's own news (本报讯), the paper's or an agency's wire from a place (本报福州6月2日电).
DATELINES = (r"本[报報]讯", r"本[报報]訊", r"本[报報]电", r"本[报報]電",
             r"(?:本[报報]|本刊|新华社|新華社|中新社|人民网|人民網)[^\s（(，,。:：、]{1,14}?[电電讯訊]",
             r"[^\s（(，,。:：、\d]{2,10}[讯訊]")
#: What credits a picture only (本报记者 郭强 摄, 摄影：李青, 图/王五); 文/图 also credits the text.
PICTURE = r"(?:摄|攝|摄影|攝影|供图|供圖|[/／]\s*(?:图|圖))$|^(?:摄影|攝影|图|圖)\s*[/／:：]"
TEXT_WORK = r"(?:^|\s|[/／])文(?:\s|$|[/／:：])|撰文|撰稿|文字|报道|報道"
#: The typographic dash that opens a subtitle (——, ――, ─, －－, --).
SUBTITLE_DASH = rf"^{_GAP}*(?:[—―─－–]+|-{{2,}}){_GAP}*"
#: The author note that closes an article: (作者为…), (作者单位:…).
AUTHOR_NOTE = r"[（(]\s*((?:本文)?作者(?:为|為|系|係|是|单位|單位|简介|簡介)[^（()）]{1,80}?)\s*[）)]"

# ---------------------------------------------------------------- compiled from the tables


def _alt(words) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_LONG_ENDINGS = [e for e in PAPER_ENDINGS if len(e) > 1]
_SHORT_ENDINGS = [e for e in PAPER_ENDINGS if len(e) == 1]
_ISSUER = (rf"(?:{_alt(ISSUERS)}|[{_CJK}]{{0,8}}?(?:{_alt(_LONG_ENDINGS)})"
           rf"|[{_CJK}]{{2,8}}?(?:{_alt(_SHORT_ENDINGS)}))")
_ROLE_PHRASE = re.compile(
    rf"(?:{_ISSUER})?(?:{_alt(QUALIFIERS)}|驻[{_CJK}]{{1,4}}?|駐[{_CJK}]{{1,4}}?)*(?P<role>{_alt(ROLES)})\s*[:：]?")
_QUOTED_PEN_NAME = re.compile(rf"^((?:{_alt(CONTRIBUTORS)})\s*[:：]?)\s*[“\"「『]([^“”\"「」『』]{{1,12}})[”\"」』]$")
_EDITOR = re.compile(rf"[（(]?(?:{_alt(EDITORS)})\s*[:：]?")
_EDITOR_INSIDE = re.compile(rf"(?:{_alt(EDITORS)})")
_CONTRIBUTOR = re.compile(rf"(?:{_alt(CONTRIBUTORS)})\s*[:：]?")
_WORK_TOKEN = re.compile(rf"(?:{_alt(WORK)})(?:\s*[/／、]\s*(?:{_alt(WORK)}))*\s*[/／:：]?")
_SLASH_WORK = re.compile(rf"[/／]\s*(?:{_alt(WORK)})(?:\s*[/／]\s*(?:{_alt(WORK)}))*$")
_SUFFIX = re.compile(rf"(?:{_alt(NAME_SUFFIXES)})$")
_DESK = re.compile(rf"^(?:{_ISSUER})[{_CJK}]{{0,8}}?(?:{_alt(DESKS)})$")
_NAME = re.compile(rf"[{_CJK}]{{1,4}}|[{_CJK}]{{1,6}}[·•．][{_CJK}]{{1,6}}|[A-Za-z][A-Za-z.'-]*")
_PEN_NAME = re.compile(rf"[{_CJK}A-Za-z0-9·]{{1,8}}")
_LETTER_SPACED = re.compile(rf"^[{_CJK}](?: [{_CJK}]){{1,2}}$")
_PLAIN_PEN_NAME = re.compile(rf"^[{_CJK}]{{2,3}}$")
_SENTENCE = re.compile(r"[。！？!?；;，,“”\"]")
_DATELINE_WORDS = "|".join(f"(?:{d})" for d in DATELINES)
_OPEN, _CLOSE = "（(【〔[［", "）)】〕]］"
_DATELINE_BRACKET = re.compile(
    rf"^(?P<dateline>{_DATELINE_WORDS}){_GAP}*[{re.escape(_OPEN)}](?P<credit>[^{re.escape(_OPEN + _CLOSE)}<>]{{1,40}})"
    rf"[{re.escape(_CLOSE)}]{_GAP}*")
_DATELINE_INLINE = re.compile(
    rf"^(?P<dateline>{_DATELINE_WORDS}){_GAP}*(?P<credit>(?:{_ROLE_PHRASE.pattern})[^，,。：:（()）“”]{{1,30}}?)"
    rf"{_GAP}*(?:报道|報道)?{_GAP}*[：:]{_GAP}*")
_DATELINE_SQUARE = re.compile(rf"^[【〔\[（(](?P<dateline>{_DATELINE_WORDS})[】〕\]）)]{_GAP}*")
# A dateline set off from what follows by spaces, or glued to a role word (本报讯记者王小明 通讯员李青 …).
_DATELINE_GAP = re.compile(rf"^(?P<dateline>{_DATELINE_WORDS})(?:{_GAP}+|(?=(?:{_ROLE_PHRASE.pattern})))")
_TOKEN = re.compile(f"[^{SPACES}]+")
_PICTURE = re.compile(PICTURE)
_TEXT_WORK = re.compile(TEXT_WORK)
_SUBTITLE_DASH = re.compile(SUBTITLE_DASH)
_DATELINE_ALONE = re.compile(rf"^(?P<dateline>{'|'.join(f'(?:{d})' for d in DATELINES[:-1])})(?:{_GAP}+|[:：]\s*)")
_AUTHOR_NOTE = re.compile(rf"^{AUTHOR_NOTE}$")
_BRACKETS = re.compile(r"[（()）]")


def _closing_brackets(text: str) -> tuple[str, str] | None:
    """(text before, credit) for text that ends in a bracketed credit of 2–40 characters (…（本报记者 王小明）);
    found from the end, in one pass whatever the text holds."""
    if not text.endswith((")", "）")):
        return None
    start = max(text.rfind("（"), text.rfind("("))
    inside = text[start + 1:-1]
    if start < 0 or not 2 <= len(inside) <= 40 or _BRACKETS.search(inside):
        return None
    return text[:start].rstrip(SPACES), inside


@dataclass(frozen=True)
class Credit:
    """Who wrote an article and where it was filed from."""

    byline: str | None = None  # as printed, without a leading bullet
    authors: tuple[str, ...] = ()
    dateline: str | None = None
    editor: bool = False  # an editor's credit (责任编辑：王小明): taken out of the text, kept out of the byline
    picture: bool = False  # credits a picture only (本报记者 郭强 摄): the byline when nothing else credits the article

    def __bool__(self) -> bool:
        return bool(self.byline or self.dateline)


def _squash_spaces(text: str) -> str:
    return re.sub(rf"{_GAP}+", " ", text).strip()


def _merge_letters(names: list[str]) -> list[str]:
    """Two- and three-character names padded with spaces (刘 冬, 任 平) are one name.

    Papers letter-space two-character names to the width of three; a longer run of single characters is several
    such names side by side (张 贺 李 青: 张贺, 李青), an odd run ending in one of three (任 仲 平).
    """
    merged: list[str] = []
    index = 0
    while index < len(names):
        one = names[index]
        end = index
        while end < len(names) and len(names[end]) == 1 and re.match(rf"[{_CJK}]", names[end]):
            end += 1
        run = names[index:end]
        if len(run) > 1:
            sizes = [2] * (len(run) // 2 - 1) + ([3] if len(run) % 2 else [2]) if len(run) > 3 else [len(run)]
            at = 0
            for size in sizes:
                merged.append("".join(run[at:at + size]))
                at += size
            index = end
        elif re.match(r"[A-Za-z]", one) and index + 1 < len(names) and re.match(r"[A-Z]", names[index + 1]):
            merged.append(f"{one} {names[index + 1]}")
            index += 2
        else:
            merged.append(one)
            index += 1
    return merged


@dataclass
class _Read:
    names: list[str]  # the authors
    roles: int = 0  # role words read
    editors: int = 0  # editor role words read (责任编辑): their names are no authors


def _names(text: str) -> _Read | None:
    """The names in a credit and how many role words were read; None when something is neither."""
    read = _Read(names=[])
    target = read.names
    pen = False  # after 网友/读者 the next token is a pen name
    for token in re.split(rf"(?:{_GAP}|[、，,;；|])+", text):
        while token:
            token = token.strip("：:")
            if not token:
                break
            editor = _EDITOR.match(token)
            if editor:
                read.roles += 1
                read.editors += 1
                target = []
                token = token[editor.end():]
                continue
            match = _ROLE_PHRASE.match(token)
            contributor = None if match else _CONTRIBUTOR.match(token)
            if contributor and contributor.end() < len(token) and not contributor.group().endswith((":", "：")):
                contributor = None  # 网友热议: a word, not a contributor and a pen name
            if match or contributor:
                read.roles += 1
                pen = contributor is not None
                target = read.names
                token = token[(match or contributor).end():]
                continue
            work = _WORK_TOKEN.fullmatch(token) or (_WORK_TOKEN.match(token) if re.match(
                rf"(?:{_alt(WORK)})\s*[/／:：]", token) else None)
            if work:
                read.roles += 1
                token = token[work.end():]
                continue
            slash = _SLASH_WORK.search(token)
            if slash:
                read.roles += 1
                token = token[:slash.start()].strip()
                continue
            inner = _ROLE_PHRASE.search(token) or _EDITOR_INSIDE.search(token)
            if inner and inner.start() > 0 and not pen:  # 王小明通讯员李青: a role word glued after a name
                head, token = token[:inner.start()], token[inner.start():]
                found = _names(head)
                if found is None:
                    return None
                target.extend(found.names)
                continue
            if len(token) > 2 and _SUFFIX.search(token) and not pen:
                read.roles += 1
                token = _SUFFIX.sub("", token)
                continue
            if pen and _PEN_NAME.fullmatch(token):
                target.append(token)
                pen = False
            elif _NAME.fullmatch(token) and token not in NOT_NAMES:
                target.append(token)
            else:
                return None
            token = ""
    read.names = _merge_letters(read.names)
    return read


def credit_line(text: str, *, alone: bool = False) -> Credit | None:
    """The credit a whole line (or paragraph) is, or None.

    ``alone`` says the line stands right under the headings, where a two- or three-character line, letter-spaced
    or not (任 平, 郑言), is a pen name rather than a subhead (结 语).
    """
    line = _squash_spaces(text)
    if not line or len(line) > 48:
        return None
    line = _QUOTED_PEN_NAME.sub(r"\1 \2", line)  # 网友“一棵白杨”
    bullet = line[0] in BULLETS
    line = line.lstrip(BULLETS + " ")
    if not line or _SENTENCE.search(line) or re.search(r"\d", line):
        return None
    if _DATELINE_GAP.match(line + " "):
        return None  # 本报讯 记者 王小明, 本报讯记者 王小明: a dateline and its credit, read by opening()
    if _DESK.match(line.replace(" ", "")):
        desk = line.replace(" ", "")  # 本报评论部, 本报评论员: the desk signs, as the paper prints it
        return Credit(byline=line, authors=(desk,))
    if alone and (_LETTER_SPACED.match(line) or _PLAIN_PEN_NAME.match(line)):
        return Credit(byline=line, authors=(line.replace(" ", ""),))
    read = _names(line)
    if read is None:
        return None
    if read.editors and read.editors == read.roles:
        return Credit(byline=line, editor=True)  # 责任编辑：王小明: a credit, but of no author
    if not read.names and read.roles and _ROLE_PHRASE.fullmatch(line.replace(" ", "")):
        return None  # a role word alone (记者) is no credit; 本报评论员 is a desk, above
    if not read.names or not (bullet or read.roles):
        return None
    picture = bool(_PICTURE.search(line)) and not _TEXT_WORK.search(line)
    return Credit(byline=line, authors=tuple(dict.fromkeys(read.names)), picture=picture)


def is_text(text: str) -> bool:
    """A paragraph of text (long, or a finished sentence): what follows a pen name under the headings."""
    stripped = text.strip(SPACES)
    return len(stripped) > 40 or bool(re.search(r"[。！？!?…][”’\"」』）)]?$", stripped))


def opening(text: str) -> tuple[Credit, str] | None:
    """A dateline opening a first paragraph (本报讯（记者 张华）…, 本报福州6月2日电记者王小明报道:…).

    Returns the credit and the paragraph's text after it.
    """
    stripped = text.lstrip(SPACES)
    match = _DATELINE_BRACKET.match(stripped)
    if match:
        credit = credit_line(_squash_spaces(match.group("credit")))
        if credit is None and stripped[match.start("credit") - 1] in "（(":
            return None  # 本报讯（…）that holds no credit
        if credit is not None:
            return Credit(byline=credit.byline, authors=credit.authors, dateline=match.group("dateline"),
                          picture=credit.picture), stripped[match.end():]
    match = _DATELINE_INLINE.match(stripped)
    if match:
        credit = credit_line(_SUFFIX.sub("", match.group("credit").strip()))
        if credit is not None:
            return Credit(byline=credit.byline, authors=credit.authors, dateline=match.group("dateline"),
                          picture=credit.picture), stripped[match.end():]
    unbracketed = _unbracketed(stripped)
    if unbracketed:
        return unbracketed
    match = _DATELINE_SQUARE.match(stripped)
    if match and len(stripped) > match.end():
        return Credit(dateline=match.group("dateline")), stripped[match.end():]
    match = _DATELINE_ALONE.match(stripped + " ")  # 本报北京12月21日电, also when the text goes on apart
    if match:
        return Credit(dateline=match.group("dateline")), stripped[match.end():]
    return None


def _unbracketed(text: str) -> tuple[Credit, str] | None:
    """A dateline, then a credit without brackets set off by spaces (本报讯 记者 王小明 通讯员 李青 记者从…).

    The credit is the longest run of space-separated words after the dateline that reads as a credit of names;
    the text goes on after the next run of spaces.
    """
    match = _DATELINE_GAP.match(text)
    if not match:
        return None
    rest = text[match.end():]
    tokens = list(_TOKEN.finditer(rest))
    for count in range(min(len(tokens), 12), 0, -1):
        last = tokens[count - 1].group()
        if _ROLE_PHRASE.fullmatch(last) or _EDITOR.fullmatch(last):
            continue  # a credit ends with a name, not a role word (记者从… after it is text)
        credit = credit_line(rest[:tokens[count - 1].end()])
        if credit is not None and credit.authors and not credit.editor:
            after = rest[tokens[count].start():] if count < len(tokens) else ""
            return Credit(byline=credit.byline, authors=credit.authors, dateline=match.group("dateline"),
                          picture=credit.picture), after
    return None


def subtitle(text: str) -> tuple[str | None, Credit | None]:
    """A subtitle as the model holds it: without its typographic dash (——), and without a credit printed at its
    end (——记优秀教师张敏 本报记者 王小明, ——记优秀教师张敏（本报记者 王小明）), which is returned apart."""
    body = _SUBTITLE_DASH.sub("", text.strip(SPACES))
    bracketed = _closing_brackets(body)
    if bracketed and bracketed[0].strip(SPACES):
        credit = credit_line(bracketed[1])
        if credit is not None and (credit.authors or credit.editor):
            return bracketed[0].strip(SPACES) or None, credit
    ending = []  # the words at the end short enough to be a credit (credit_line takes at most 48 characters)
    for token in reversed(list(_TOKEN.finditer(body))):
        if len(_squash_spaces(body[token.start():])) > 48:
            break
        ending.append(token)
    for token in reversed(ending):  # the longest run of words at the end that reads as a credit (——本报记者 王小明: all)
        credit = credit_line(body[token.start():])
        if credit is not None and (credit.authors or credit.editor):
            return body[:token.start()].strip(SPACES) or None, credit
    return body or None, None


def closing(text: str) -> tuple[Credit, str] | None:
    """A credit in brackets that ends the text (…。（本报记者 王小明）); returns it and the text before it."""
    stripped = text.strip(SPACES)
    if author_note(stripped):
        return None
    match = _closing_brackets(stripped)
    if not match:
        return None
    rest, inside = match
    if rest and not re.search(r"[。！？!?…”’\"」』]$", rest):
        return None  # brackets inside a sentence
    credit = credit_line(inside)
    if credit is None or not (credit.authors or credit.editor or _DESK.match(inside.replace(" ", ""))):
        return None
    return credit, rest


def author_note(text: str) -> str | None:
    """The author note a line is ((作者为…) gives 作者为…), or None."""
    match = _AUTHOR_NOTE.match(text.strip(SPACES))
    return _squash_spaces(match.group(1)) if match else None


def combine(*credits: Credit | None) -> Credit:
    """One credit from several lines: bylines joined, authors in order without repeats, the first dateline.

    A dateline's bracketed credit that only repeats names already credited adds nothing to the byline.  A picture
    credit (本报记者 郭强 摄) is the byline only when nothing else credits the article.
    """
    lines: list[str] = []
    authors: list[str] = []
    dateline = None
    others = any(c and c.authors and not c.editor and not c.picture for c in credits)
    for credit in credits:
        if not credit or credit.editor:
            continue
        if credit.picture and others:
            dateline = dateline or credit.dateline
            continue
        dateline = dateline or credit.dateline
        if credit.byline and (not authors or not credit.authors or any(a not in authors for a in credit.authors)):
            lines.append(credit.byline)
        authors.extend(a for a in credit.authors if a not in authors)
    return Credit(byline=" ".join(lines) or None, authors=tuple(authors), dateline=dateline)
