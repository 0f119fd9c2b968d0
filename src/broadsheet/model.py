"""The chapter model: Publication → Issue → Section → Article → blocks.

Values only: frozen, validated, free of I/O and of any output-format concern.  Inline
markup inside blocks is a sanitised XHTML fragment (:class:`Inline`), produced only by
``broadsheet.ingest.html``; templates may insert it unescaped.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

LANG_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
ID_RE = re.compile(r"^[a-z][a-z0-9-]*$")
#: Control characters (C0, DEL, C1) and the Unicode line and paragraph separators.
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


#: Characters written without spaces between them (CJK ideographs, kana, hangul, full-width forms).
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


def one_line(value: str) -> str:
    """A label as one line: each run of control characters (newlines, tabs, NUL …) becomes one
    space (none between two CJK characters: 理\n论 is 理论), and the ends are trimmed."""
    if CONTROL_RE.search(value) is None:
        return value

    def join(match: re.Match) -> str:
        before, after = value[match.start() - 1:match.start()], value[match.end():match.end() + 1]
        return "" if before and after and _CJK.match(before) and _CJK.match(after) else " "

    return re.sub(r" {2,}", " ", CONTROL_RE.sub(join, value)).strip()


#: Text drawn on one line (the cover, running heads, the contents, headlines): section names, page
#: labels, titles, bylines, edition and number.  Control characters are normalised when the model
#: is made.
Label = Annotated[str, AfterValidator(one_line)]


#: Each distinct set of field names given when a value was made, held once: a frozen value's set never
#: changes, and an archive's model holds millions of values (a set each would be a quarter of their size).
_FIELDS_GIVEN: dict[frozenset[str], set[str]] = {}


def _share_fields_given(value: BaseModel) -> None:
    given = value.__pydantic_fields_set__
    shared = _FIELDS_GIVEN.setdefault(frozenset(given), given)
    if shared is not given:
        object.__setattr__(value, "__pydantic_fields_set__", shared)


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=False)

    def model_post_init(self, context, /) -> None:
        _share_fields_given(self)

    def model_copy(self, *, update=None, deep: bool = False):
        copied = super().model_copy(update=update, deep=deep)  # the copy's set is its own until shared
        _share_fields_given(copied)
        return copied


class Inline(_Value):
    """A sanitised inline XHTML fragment and its plain text."""

    html: str
    text: str

    def model_post_init(self, context, /) -> None:
        super().model_post_init(context)
        # Most paragraphs have no markup and nothing escaped: their HTML is their text, held once.
        if self.text == self.html and self.text is not self.html:
            self.__dict__["text"] = self.html


class Paragraph(_Value):
    kind: Literal["paragraph"] = "paragraph"
    content: Inline


class Heading(_Value):
    kind: Literal["heading"] = "heading"
    level: int = Field(ge=2, le=6)
    content: Inline


class Quote(_Value):
    kind: Literal["quote"] = "quote"
    paragraphs: tuple[Inline, ...]


class ListBlock(_Value):
    kind: Literal["list"] = "list"
    ordered: bool = False
    items: tuple[Inline, ...]


class Preformatted(_Value):
    kind: Literal["pre"] = "pre"
    text: str


class Rule(_Value):
    kind: Literal["rule"] = "rule"


class Image(_Value):
    """A picture that belongs to an article; ``path`` is the resolved file in the source folder."""

    src: str
    path: Path
    #: the folder ``path`` must stay inside whenever it is read again (see ``broadsheet.files``)
    root: Path | None = Field(default=None, exclude=True)
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    media_type: Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    alt: str = ""
    caption: Inline | None = None


class Figure(_Value):
    kind: Literal["figure"] = "figure"
    image: Image


Block = Annotated[
    Union[Paragraph, Heading, Quote, ListBlock, Preformatted, Rule, Figure],
    Field(discriminator="kind"),
]


class Article(_Value):
    id: str = Field(pattern=ID_RE.pattern)
    title: Annotated[Label, Field(min_length=1)]
    lang: str = Field(pattern=LANG_RE.pattern)
    subtitle: Label | None = None
    kicker: Label | None = None
    authors: tuple[Label, ...] = ()
    byline: Label | None = None
    author_note: Label | None = None
    dateline: Label | None = None
    tags: tuple[Label, ...] = ()
    source: str | None = None
    source_path: Path | None = None
    blocks: tuple[Block, ...] = ()
    lead: bool = False  # the issue's lead story (``lead: true`` in front matter): a newspaper's front page

    @property
    def images(self) -> tuple[Image, ...]:
        return tuple(b.image for b in self.blocks if isinstance(b, Figure))

    @property
    def text(self) -> str:
        """Return the body as plain text, paragraphs separated by one blank line."""
        parts: list[str] = []
        for block in self.blocks:
            if isinstance(block, (Paragraph, Heading)):
                parts.append(block.content.text)
            elif isinstance(block, Quote):
                parts.extend(p.text for p in block.paragraphs)
            elif isinstance(block, ListBlock):
                parts.append("\n".join(i.text for i in block.items))
            elif isinstance(block, Preformatted):
                parts.append(block.text)
            elif isinstance(block, Figure) and block.image.caption is not None:
                parts.append(block.image.caption.text)
        return "\n\n".join(p for p in parts if p)


class Section(_Value):
    id: str = Field(pattern=ID_RE.pattern)
    name: Annotated[Label, Field(min_length=1)]
    page: Label | None = None
    articles: tuple[Article, ...] = ()


class Issue(_Value):
    date: dt.date | None = None
    number: Label | None = None
    edition: Label | None = None
    sections: tuple[Section, ...] = ()

    @property
    def articles(self) -> tuple[Article, ...]:
        return tuple(a for s in self.sections for a in s.articles)


class Publication(_Value):
    id: str = Field(pattern=ID_RE.pattern)
    title: Annotated[Label, Field(min_length=1)]
    language: str = Field(pattern=LANG_RE.pattern)
    publisher: Label | None = None
    issues: tuple[Issue, ...] = ()

    @field_validator("language")
    @classmethod
    def _canonical_language(cls, value: str) -> str:
        return value.replace("_", "-")


def issue_to_dict(publication: Publication, issues: tuple[Issue, ...] | None = None) -> dict:
    """Return the ``inspect --json`` view of a publication (the documented contract)."""
    return {
        "publication": {
            "title": publication.title,
            "language": publication.language,
            "id": publication.id,
            "publisher": publication.publisher,
        },
        "issues": [
            {
                "date": issue.date.isoformat() if issue.date else None,
                "number": issue.number,
                "edition": issue.edition,
                "sections": [
                    {
                        "name": section.name,
                        "page": section.page,
                        "articles": [_article_to_dict(a) for a in section.articles],
                    }
                    for section in issue.sections
                ],
            }
            for issue in (publication.issues if issues is None else issues)
        ],
    }


def _article_to_dict(article: Article) -> dict:
    return {
        "id": article.id,
        "title": article.title,
        "subtitle": article.subtitle,
        "kicker": article.kicker,
        "authors": list(article.authors),
        "byline": article.byline,
        "author_note": article.author_note,
        "dateline": article.dateline,
        "tags": list(article.tags),
        "lang": article.lang,
        "source": article.source,
        "text": article.text,
        "images": [
            {"src": img.src, "caption": img.caption.text if img.caption else None, "alt": img.alt}
            for img in article.images
        ],
    }
