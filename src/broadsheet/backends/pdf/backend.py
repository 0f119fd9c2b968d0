"""PDF backend: WeasyPrint lays out the print HTML; only the issue's own assets are served.

Print features are options (``PdfConfig``): page boxes for a bleed (WeasyPrint's
MediaBox/TrimBox, and a BleedBox set to the configured bleed), crop and cross marks
outside the bleed, WeasyPrint's PDF variants (PDF/A, PDF/UA, PDF/X), grayscale pictures
for newsprint, and a booklet imposition written beside the PDF.
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path
from typing import ClassVar

from ...config import EpubConfig, PdfConfig
from ...paper import to_mm
from ...errors import BackendError
from ...output import atomic_path
from ...rendered import RenderedIssue
from .. import Pending
from .facsimile import with_page_pdfs
from .fonts import FontUnavailable
from .layout import PRELOAD, PT_PER_MM, render_part, render_whole

log = logging.getLogger("broadsheet")


class PdfBackend:
    name: ClassVar[str] = "pdf"
    suffix: ClassVar[str] = ".pdf"
    render_target: ClassVar[str] = "pdf"
    remote_resources: ClassVar[bool] = False

    def __init__(self, *, pdf: PdfConfig, epub: EpubConfig, cache_folder: Path | None = None) -> None:
        self.options = pdf
        self.cache_folder = cache_folder
        self._staged = None  # the PartCache of the PDF being written, committed once it is

    @classmethod
    def warm_up(cls) -> None:
        """Fork the layout zygote now, so that it imports WeasyPrint while the sources are read."""
        from ..processes import warm_up

        warm_up(PRELOAD)

    @functools.cached_property
    def _leash(self) -> dict[str, float]:
        """Layout seconds, memory and processes: the machine's limits, lowered (never raised) by [pdf]."""
        from ... import limits

        used, refused = limits.capped({"layout_seconds": self.options.timeout,
                                       "layout_memory_mb": self.options.memory_mb, "jobs": self.options.jobs})
        for key, asked in refused.items():
            setting = {"layout_seconds": "timeout", "layout_memory_mb": "memory_mb"}.get(key, key)
            log.info("[pdf] %s = %s is above this machine's limit; %s is used", setting,
                     *(f"{v:g}" if isinstance(v, float) else v for v in (asked, used[key])))
        return used

    def write(self, rendered: RenderedIssue, target: Path) -> list[Path]:
        """Lay out the print HTML and write the PDF atomically, and its booklet if one is asked for;
        return the paths written."""
        _check_pictures(rendered)
        self._staged = None
        planned = self._parts(rendered, target) if self.options.layout == "sections" else None
        pdf = self._lay_out_by_sections(rendered, target, *planned) if planned is not None else None
        if pdf is None:
            pdf = self._lay_out_whole(rendered, target)
        return self._write(with_page_pdfs(pdf, rendered), target)

    def start(self, rendered: RenderedIssue, target: Path) -> Pending:
        """Begin writing ``target``: an edition laid out whole is started in its own layout process at once,
        so that the small editions of an archive are laid out side by side (up to ``jobs`` at a time); one
        laid out in parts is laid out in its turn (``write``), alone, its parts using every process.  A
        fault is raised by :meth:`Pending.finish`, in the output's turn, as ``write`` would raise it."""
        try:
            _check_pictures(rendered)
            if self.options.layout == "sections" and self._parts(rendered, target) is not None:
                return Pending(lambda: self.write(rendered, target), alone=True)
            running = self._launch_whole(rendered, target)
        except Exception as exc:  # noqa: BLE001 - raised in this output's turn
            return Pending(functools.partial(_raise, exc))

        def finish() -> list[Path]:
            try:
                pdf = self._whole_result(running, target)
            finally:
                running.stop()
            return self._write(with_page_pdfs(pdf, rendered), target)

        return Pending(finish, running=True, jobs=self._leash["jobs"], cancel=running.stop)

    def _write(self, pdf: bytes, target: Path) -> list[Path]:
        with atomic_path(target) as temporary:
            temporary.write_bytes(pdf)
        if self._staged is not None:  # the laid-out parts, kept once the PDF is written
            self._staged.commit()
        written = [target]
        if self.options.impose == "booklet":
            from .impose import impose_booklet

            booklet = target.with_name(f"{target.stem}-booklet{target.suffix}")
            with atomic_path(booklet) as temporary:
                temporary.write_bytes(impose_booklet(pdf))
            written.append(booklet)
        return written

    def _launch_whole(self, rendered: RenderedIssue, target: Path):
        from ..processes import LayoutFailed, launch_limited

        try:
            return launch_limited(render_whole, self._settings(), _pictures(rendered),
                                  {a.name: (a.data, a.path, a.media_type, a.root) for a in rendered.assets},
                                  rendered.documents[0].content.decode("utf-8"), preload=PRELOAD,
                                  timeout=self._leash["layout_seconds"], memory_mb=self._leash["layout_memory_mb"])
        except LayoutFailed as exc:
            raise BackendError(f"PDF layout failed: {exc}", target) from None

    @staticmethod
    def _whole_result(running, target: Path) -> bytes:
        from ..processes import LayoutFailed, LayoutTimeout

        try:
            return running.result()
        except LayoutTimeout as exc:
            raise BackendError(f"PDF layout stopped: it {exc} (raise --render-timeout, or look for a layout "
                               "trap in the theme or article CSS)", target) from None
        except LayoutFailed as exc:
            raise BackendError(f"PDF layout failed: {exc}", target) from None

    def _lay_out_whole(self, rendered: RenderedIssue, target: Path) -> bytes:
        return self._whole_result(self._launch_whole(rendered, target), target)

    def _parts(self, rendered: RenderedIssue, target: Path):
        """``(parts, stylesheets)`` of an edition laid out in parts, or ``None`` when it is laid out whole
        (told why).  The answer depends on the edition alone (``parts.splittable``)."""
        from .parts import split_edition, splittable

        html = rendered.documents[0].content.decode("utf-8")
        parts = split_edition(html)
        stylesheets = [a.read().decode("utf-8", "replace") for a in rendered.assets if a.media_type == "text/css"]
        reason = "its template has no part markers" if parts is None else splittable(
            self.options.variant, stylesheets, parts)
        if reason:
            log.info("%s: laid out as one document: %s", target.name, reason)
            return None
        return parts, stylesheets

    def _lay_out_by_sections(self, rendered: RenderedIssue, target: Path, parts, stylesheets: list[str]) -> bytes | None:
        """Lay the front matter and each section out in parallel processes; ``None`` if this
        edition must be laid out whole after all (see ``scheduler``)."""
        from .cache import PartCache
        from .scheduler import Repaginate, lay_out_in_parts

        jobs = self._leash["jobs"]
        assets = {a.name: (a.data, a.path, a.media_type, a.root) for a in rendered.assets}
        cache = PartCache(
            self.cache_folder / "pdf" if self.cache_folder else None,
            salt=self._cache_salt(stylesheets),
            assets={a.name: a.read() for a in rendered.assets if a.media_type != "text/css"},
        )
        render = functools.partial(render_part, self._settings(), _pictures(rendered), assets)
        try:
            pdf, laid_out, count, processes = lay_out_in_parts(parts, render, jobs, self._leash["layout_seconds"],
                                                    self._leash["layout_memory_mb"], cache)
        except (Repaginate, FontUnavailable) as exc:
            log.info("%s: laid out as one document: %s", target.name, exc)
            return None
        except TimeoutError as exc:
            raise BackendError(f"PDF layout stopped: it {exc} (raise --render-timeout, or look for a layout "
                               "trap in the theme or article CSS)", target) from None
        except RuntimeError as exc:
            raise BackendError(f"PDF layout failed: {exc}", target) from None
        if laid_out == count:
            log.info("%s: %d part%s laid out (%d at a time) by %d process%s", target.name, count,
                     "s" if count != 1 else "", jobs, processes, "es" if processes != 1 else "")
        elif laid_out == 0:
            log.info("%s: all %d parts from the cache", target.name, count)
        else:
            log.info("%s: %d of %d parts laid out (%d at a time) by %d process%s, the rest from the cache",
                     target.name, laid_out, count, jobs, processes, "es" if processes != 1 else "")
        self._staged = cache
        return pdf

    def _cache_salt(self, stylesheets: list[str]) -> str:
        from importlib.metadata import version

        from ...version import __version__

        return "\0".join([__version__, version("weasyprint"), version("pydyf"), self.options.model_dump_json(exclude={"jobs", "timeout", "memory_mb"}),
                           *stylesheets, _fonts_fingerprint()])

    def _settings(self) -> dict:
        """What a layout process needs of the options (plain values, see ``layout``)."""
        return {"grayscale": self.options.grayscale, "bleed_pt": to_mm(self.options.bleed) * PT_PER_MM,
                "variant": self.options.variant}


def _raise(exc: BaseException):
    raise exc


def _check_pictures(rendered: RenderedIssue) -> None:
    """Open each picture file through the file door before layout: one swapped for a link out of
    its source folder since ingest is refused by name (the layout processes read through the
    door too, so a later swap is never read either)."""
    from ...files import open_inside

    for asset in rendered.assets:
        if asset.data is None and asset.path is not None and asset.root is not None:
            with open_inside(asset.path, asset.root, "picture"):
                pass


def _pictures(rendered: RenderedIssue) -> dict[str, tuple[int, str, str]]:
    """Each picture of the print HTML: its width in pixels, article source and name, for the
    resolution warning (small and picklable, for the layout processes)."""
    return {f"images/{image.name}": (image.width, str(article.source_path), image.src)
            for article in rendered.issue.articles for image in article.images}


def _fonts_fingerprint() -> str:
    """Name the installed fonts' state: the font folders and their modification times."""
    folders = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts",
               Path.home() / ".local/share/fonts"]
    seen = []
    for folder in folders:
        for path, _, _ in os.walk(folder):
            try:
                seen.append(f"{path}:{os.stat(path).st_mtime_ns}")
            except OSError:
                pass
    return "\n".join(seen)
