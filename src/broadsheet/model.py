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

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

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


#: The shapes of a facsimile's regions, as HTML image maps name them.
SHAPES = ("polygon", "rect", "circle")


class Region(_Value):
    """One hot spot of a page facsimile: a shape over the picture, in its pixel space, and the article it shows.

    ``coords`` as in an HTML image map: a polygon's x1,y1,x2,y2,… (three points or more), a rectangle's
    left,top,right,bottom, a circle's centre x,y and radius."""

    shape: Literal[SHAPES]
    coords: tuple[int, ...]
    article: str = Field(pattern=ID_RE.pattern)

    @field_validator("coords")
    @classmethod
    def _coords(cls, value: tuple[int, ...], info) -> tuple[int, ...]:
        shape = info.data.get("shape")
        wanted = {"rect": "4", "circle": "3"}.get(shape)
        if shape == "polygon" and (len(value) < 6 or len(value) % 2):
            raise ValueError(f"a polygon takes pairs of coordinates, three points or more; got {len(value)} numbers")
        if wanted and len(value) != int(wanted):
            raise ValueError(f"a {shape} takes {wanted} coordinates, got {len(value)}")
        return value

    @property
    def points(self) -> tuple[tuple[int, int], ...]:
        """A polygon's points; a rectangle's four corners; a circle's centre alone."""
        c = self.coords
        if self.shape == "rect":
            return ((c[0], c[1]), (c[2], c[1]), (c[2], c[3]), (c[0], c[3]))
        if self.shape == "circle":
            return ((c[0], c[1]),)
        return tuple(zip(c[0::2], c[1::2]))

    @property
    def box(self) -> tuple[int, int, int, int]:
        """The smallest rectangle holding the region: left, top, right, bottom."""
        if self.shape == "circle":
            x, y, r = self.coords
            return (x - r, y - r, x + r, y + r)
        xs, ys = [p[0] for p in self.points], [p[1] for p in self.points]
        return (min(xs), min(ys), max(xs), max(ys))


class Facsimile(_Value):
    """The printed page (版面图) of a section: its picture, the page PDF where the source has one, and the
    regions that link the picture's articles."""

    picture: Image
    #: the printed page as a PDF (``pdf_root`` is the folder it must stay inside when it is read)
    pdf: Path | None = None
    pdf_root: Path | None = Field(default=None, exclude=True)
    regions: tuple[Region, ...] = ()

    def placed(self, width: float, height: float) -> tuple[float, float, float, float]:
        """The picture scaled to fit a ``width`` × ``height`` box and centred in it: left, top, width, height."""
        scale = min(width / self.picture.width, height / self.picture.height)
        shown_width, shown_height = self.picture.width * scale, self.picture.height * scale
        return (width - shown_width) / 2, (height - shown_height) / 2, shown_width, shown_height


class Section(_Value):
    id: str = Field(pattern=ID_RE.pattern)
    name: Annotated[Label, Field(min_length=1)]
    page: Label | None = None
    articles: tuple[Article, ...] = ()
    facsimile: Facsimile | None = None


class Issue(_Value):
    date: dt.date | None = None
    number: Label | None = None
    edition: Label | None = None
    sections: tuple[Section, ...] = ()

    @property
    def articles(self) -> tuple[Article, ...]:
        return tuple(a for s in self.sections for a in s.articles)

    @model_validator(mode="after")
    def _regions_name_articles(self) -> Issue:
        ids = {a.id for a in self.articles}
        for section in self.sections:
            for region in section.facsimile.regions if section.facsimile else ():
                if region.article not in ids:
                    raise ValueError(f"a region of the facsimile of section {section.id} links article "
                                     f"{region.article}, which is not in the issue")
        return self


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
                "sections": [_section_to_dict(section) for section in issue.sections],
            }
            for issue in (publication.issues if issues is None else issues)
        ],
    }


def _section_to_dict(section: Section) -> dict:
    view = {
        "name": section.name,
        "page": section.page,
        "articles": [_article_to_dict(a) for a in section.articles],
    }
    if section.facsimile is not None:  # only where a section has one: the view of other sources stays as it was
        facsimile = section.facsimile
        view["facsimile"] = {
            "picture": {"src": facsimile.picture.src, "width": facsimile.picture.width,
                        "height": facsimile.picture.height, "alt": facsimile.picture.alt},
            "pdf": facsimile.pdf.name if facsimile.pdf else None,
            "regions": [{"shape": r.shape, "coords": list(r.coords), "article": r.article}
                        for r in facsimile.regions],
        }
    return view


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
