"""One e-mail per recipient and edition, fit for Send to Kindle and other mail-to-device services.

The edition is attached with its real media type (``application/epub+zip``, ``application/pdf``)
under an ASCII file name (the file's own, cleaned); a title in another script is given as well,
RFC 2231-encoded (``filename*=utf-8''…``) after the ASCII ``filename``, which services that do
not read RFC 2231 (or refuse non-ASCII names) use instead.  The subject is the publication and
its date, read from the EPUB's package document or the PDF's metadata.  The Message-ID is
derived from the recipient, the file's SHA-256 and the sender's domain: the same edition to the
same reader always has the same Message-ID (mail systems drop a repeat), and the message's
bytes depend on nothing else but the Date header (``SOURCE_DATE_EPOCH`` when set, else now).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

from ..errors import BroadsheetError
from .address import bare, domain_of
from .address import display_name as sender_name

EPUB = "application/epub+zip"
PDF = "application/pdf"
#: the largest attachment by recipient domain, unless the configuration says otherwise
DOMAIN_LIMITS = {"kindle.com": 50 * 1024**2, "free.kindle.com": 50 * 1024**2}
#: how messages are written: CRLF, lines kept to 78 characters, headers set raw left as made
WIRE = policy.SMTP.clone(refold_source="none")
_OPF_LIMIT = 4 * 1024**2
_DC = "{http://purl.org/dc/elements/1.1/}"
_OPF = "{http://www.idpf.org/2007/opf}"


class DeliveryError(BroadsheetError):
    """A file, an address or a setting that delivery cannot use."""


@dataclass(frozen=True)
class Edition:
    """A file to deliver: its bytes' digest, media type and what the reader is told about it."""

    path: Path
    sha256: str
    size: int
    media_type: str
    title: str  # the publication and its date, as the subject gives them

    @property
    def kind(self) -> str:
        return "EPUB" if self.media_type == EPUB else "PDF"


def read_edition(path: Path) -> Edition:
    """Describe the EPUB or PDF at ``path`` (its kind told by its content, not its name)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
            digest = hashlib.sha256(head)
            size = len(head)
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    except FileNotFoundError:
        raise DeliveryError("no such file", path) from None
    except IsADirectoryError:
        raise DeliveryError("a folder, not an edition (give its .epub or .pdf files)", path) from None
    except OSError as exc:
        raise DeliveryError(f"cannot read: {exc.strerror or exc}", path) from None
    if head.startswith(b"%PDF-"):
        media_type, title = PDF, _pdf_title(path)
    elif head.startswith(b"PK\x03\x04") and head[30:58] == b"mimetypeapplication/epub+zip":
        media_type, title = EPUB, _epub_title(path)
    else:
        raise DeliveryError("not an EPUB or a PDF", path)
    return Edition(path, digest.hexdigest(), size, media_type, title or _title_from_name(path))


def _epub_title(path: Path) -> str | None:
    from lxml import etree

    from ..xhtml import parse

    try:
        with zipfile.ZipFile(path) as archive:
            container = parse(_member(archive, "META-INF/container.xml"))
            rootfile = container.find(".//{urn:oasis:names:tc:opendocument:xmlns:container}rootfile")
            if rootfile is None or not rootfile.get("full-path"):
                raise DeliveryError("not an EPUB: its container names no package document", path)
            opf = parse(_member(archive, rootfile.get("full-path")))
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, ValueError, OSError) as exc:
        raise DeliveryError(f"not an EPUB that can be read ({type(exc).__name__})", path) from None
    metadata = opf.find(f"{_OPF}metadata")
    if metadata is None:
        return None
    title = _text(metadata.find(f"{_DC}title"))
    date = (_text(metadata.find(f"{_DC}date")) or "")[:10]
    collection = next((_text(m) for m in metadata.iter(f"{_OPF}meta")
                       if m.get("property") == "belongs-to-collection"), None)
    return _subject(collection, title, date)


def _member(archive: zipfile.ZipFile, name: str) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > _OPF_LIMIT:
        raise ValueError(f"{name} is too large")
    return archive.read(info)


def _text(element) -> str | None:
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None


def _pdf_title(path: Path) -> str | None:
    import pikepdf

    try:
        with pikepdf.open(path) as pdf:
            title = pdf.docinfo.get("/Title")
            return _subject(None, " ".join(str(title).split()), "") if title is not None else None
    except (pikepdf.PdfError, ValueError, OSError):
        raise DeliveryError("not a PDF that can be read", path) from None


def _subject(collection: str | None, title: str | None, date: str) -> str | None:
    """``The Harbour Gazette, 2026-11-20``: the publication (its collection, else the title) and the date."""
    name = title or collection
    if collection and title and date and title.startswith(collection) and date in title:
        name = collection
    if not name:
        return None
    name = f"{name}, {date}" if date and date not in name else name
    # a title that ends with its date (as broadsheet's do) reads as the publication, then the date
    return re.sub(r"^(.*?[^\s,])\s+(\d{4}-\d{2}-\d{2}(?:\s*(?:–|-|to)\s*\d{4}-\d{2}-\d{2})?)$", r"\1, \2", name)


def _title_from_name(path: Path) -> str:
    return path.stem.replace("_", " ")


def ascii_name(path: Path) -> str:
    """The file's name as plain ASCII letters, digits, ``.``, ``-`` and ``_`` (``edition.epub`` if nothing is left)."""
    suffix = path.suffix.lower() if path.suffix.lower() in (".epub", ".pdf") else ""
    stem = unicodedata.normalize("NFKD", path.name[: -len(path.suffix)] if path.suffix else path.name)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem.encode("ascii", "ignore").decode()).strip("-.")
    return f"{stem[:60].strip('-.') or 'edition'}{suffix}"


def display_name(edition: Edition) -> str | None:
    """A name from the title for a title in another script than ASCII (``郑州日报, 2012-07-06.epub``), else None."""
    if edition.title.isascii():
        return None
    name = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]+|, ", " ", edition.title)
    name = " ".join(name.split())[:60].strip()
    return f"{name}{'.epub' if edition.media_type == EPUB else '.pdf'}" if name else None


def _rfc2231(name: str, value: str) -> list[str]:
    """``name*0*=utf-8''…; name*1*=…`` pieces of at most 54 characters (a line under 78), never splitting a %XX."""
    encoded = quote(value.encode("utf-8"), safe="!#$&+-.^_`|~")
    pieces, start = [], 0
    while start < len(encoded):
        end = min(start + 54, len(encoded))
        while end < len(encoded) and "%" in encoded[end - 2:end]:
            end -= 1
        pieces.append(encoded[start:end])
        start = end
    if len(pieces) == 1:
        return [f"{name}*=utf-8''{pieces[0]}"]
    return [f"{name}*{i}*={'utf-8' + chr(39) * 2 if i == 0 else ''}{piece}" for i, piece in enumerate(pieces)]


def message_id(recipient: str, sha256: str, sender: str) -> str:
    token = hashlib.sha256(f"{recipient.lower()}\n{sha256}".encode()).hexdigest()[:40]
    return f"<{token}.broadsheet@{domain_of(sender)}>"


def size_limit(recipient: str, default: int, domains: dict[str, int] | None = None) -> int:
    """The largest attachment ``recipient`` takes: by its domain, else ``default``."""
    limits = {**DOMAIN_LIMITS, **(domains or {})}
    return limits.get(domain_of(recipient), default)


def _now() -> dt.datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc)
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def human_size(size: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def make_message(edition: Edition, recipient: str, sender: str, *, link: str | None = None,
                 limit: int | None = None) -> EmailMessage:
    """The message that brings ``edition`` to ``recipient``: attached, or (``link``) a link to it."""
    message = EmailMessage(policy=policy.default)
    message["From"] = Address(display_name=sender_name(sender), addr_spec=bare(sender))
    message["To"] = Address(addr_spec=recipient)
    message["Subject"] = edition.title
    message["Date"] = format_datetime(_now(), usegmt=True)
    message["Message-ID"] = message_id(recipient, edition.sha256, sender)
    message["Auto-Submitted"] = "auto-generated"
    name = ascii_name(edition.path)
    if link is None:
        message.set_content(f"{edition.title}: the {edition.kind} edition is attached "
                            f"({name}, {human_size(edition.size)}).\n")
        with open(edition.path, "rb") as handle:
            data = handle.read()
        if hashlib.sha256(data).hexdigest() != edition.sha256:
            raise DeliveryError("changed while being sent; run again", edition.path)
        maintype, subtype = edition.media_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        part = next(message.iter_attachments())
        del part["MIME-Version"]
        part.set_param("name", name)
        unicode_name = display_name(edition)
        if unicode_name:
            del part["Content-Disposition"]
            part.set_raw("Content-Disposition", ";\r\n ".join(
                ["attachment", f'filename="{name}"', *_rfc2231("filename", unicode_name)]))
        message.set_boundary(f"=_{edition.sha256[:16]}{hashlib.sha256(recipient.encode()).hexdigest()[:16]}")
    else:
        too_big = f" ({human_size(edition.size)}; this address takes {human_size(limit)} at most)" if limit else ""
        message.set_content(f"{edition.title}: the {edition.kind} edition is too large to send by e-mail"
                            f"{too_big}.\nDownload it here:\n\n{link}\n")
    return message


def to_bytes(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=WIRE)


def envelope(message: EmailMessage) -> tuple[str, str]:
    """(MAIL FROM, RCPT TO) of ``message``."""
    return message["From"].addresses[0].addr_spec, message["To"].addresses[0].addr_spec
