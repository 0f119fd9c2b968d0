"""broadsheet serve: a published library over HTTP, for e-readers on the local network.

The folder is what ``broadsheet publish`` writes: ``index.html`` (the library page), ``opds/root.nav.atom``
(the OPDS root), feeds, editions and ``opds/catalog.json`` (every edition, for search).  Files are served
read-only, GET and HEAD alone, with their media types, validators (ETag, Last-Modified, 304 answers) and
byte ranges.  Nothing outside the folder can be reached: a path is refused before any file is looked at if
it holds ``..``, ``.``, a hidden name, an empty segment, a backslash or a control character (percent-encoded
or not), and a file is opened through the same check as :mod:`files` makes (its descriptor's real path must
lie inside the folder), so a link leading out is a 404 like a missing file.

Search (``/opds/search?q=``, OPDS 1.2, and ``/opds/search.opds.json?query=``, OPDS 2, both with ``&page=``)
is answered by :func:`publish.opds.search_feed` from ``catalog.json``, read again only when the file changes:
the entries of the static feeds.  No catalog is a 404; one that cannot be read or is not JSON an empty feed.

Starlette and uvicorn are imported only when a server starts: ``build`` never loads them.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import BroadsheetError
from .files import OutsideRoot, open_descriptor_inside

__all__ = ["ServeError", "media_type", "safe_parts", "serve", "make_app"]

NAVIGATION = "application/atom+xml;profile=opds-catalog;kind=navigation"
ACQUISITION = "application/atom+xml;profile=opds-catalog;kind=acquisition"
ROOT_FEED = "/opds/root.nav.atom"
CATALOG = "opds/catalog.json"
SEARCH = "/opds/search"
SEARCH_OPDS2 = "/opds/search.opds.json"

#: Media types by the end of a file's name, longest first where one ends another.
_BY_ENDING = (
    (".nav.atom", NAVIGATION),
    (".opds.json", "application/opds+json"),
    (".atom", ACQUISITION),
    (".epub", "application/epub+zip"),
    (".pdf", "application/pdf"),
    (".html", "text/html; charset=utf-8"),
    (".htm", "text/html; charset=utf-8"),
    (".xhtml", "application/xhtml+xml"),
    (".css", "text/css; charset=utf-8"),
    (".js", "text/javascript; charset=utf-8"),
    (".json", "application/json"),
    (".xml", "application/xml"),
    (".txt", "text/plain; charset=utf-8"),
    (".png", "image/png"),
    (".jpg", "image/jpeg"),
    (".jpeg", "image/jpeg"),
    (".gif", "image/gif"),
    (".webp", "image/webp"),
    (".avif", "image/avif"),
    (".svg", "image/svg+xml"),
    (".ico", "image/vnd.microsoft.icon"),
    (".woff2", "font/woff2"),
    (".woff", "font/woff"),
    (".otf", "font/otf"),
    (".ttf", "font/ttf"),
)
_BY_NAME = {"opensearch.xml": "application/opensearchdescription+xml"}

#: Sent with every answer.
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"SAMEORIGIN"),
)

#: A catalog larger than this is not read (a library of a hundred thousand editions stays well below).
CATALOG_MAX_BYTES = 64 * 1024 * 1024
#: A search term longer than this is cut; a page number above this is the last page.
MAX_TERM = 200
MAX_PAGE = 100_000
#: Seconds a download in progress may keep the server from stopping.
GRACEFUL_SECONDS = 3
#: Connections served at once; more are answered 503.
MAX_CONNECTIONS = 64


class ServeError(BroadsheetError):
    """The library cannot be served (no published library, an address that cannot be listened on)."""


def media_type(name: str) -> str:
    """The media type of a file of the published library, told by its name (never by the system's tables)."""
    lowered = name.lower()
    if lowered in _BY_NAME:
        return _BY_NAME[lowered]
    for ending, kind in _BY_ENDING:
        if lowered.endswith(ending):
            return kind
    return "application/octet-stream"


def safe_parts(path: str) -> list[str] | None:
    """The segments of a request's decoded path, or None when it could name anything outside the folder or
    hidden in it: no ``..`` or ``.``, no name starting with a dot, no empty segment (``//etc``), no backslash,
    no control character.  A trailing slash gives a last empty segment (a folder asked for as one)."""
    if not path.startswith("/"):
        return None
    parts = path[1:].split("/")
    for index, part in enumerate(parts):
        if not part:
            if index == len(parts) - 1:
                continue
            return None
        if part.startswith(".") or "\\" in part or any(ord(c) < 32 or ord(c) == 127 for c in part):
            return None
    return parts


def _loopback_host(header: bytes) -> bool:
    """Whether a Host header names this machine by a loopback name: localhost (or a name under .localhost),
    or a loopback address, with or without a port."""
    host = header.decode("latin-1").strip().lower()
    if host.startswith("["):  # [::1]:8080
        name = host[1:host.find("]")] if "]" in host else ""
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    name = name.rstrip(".")
    return name == "localhost" or name.endswith(".localhost") or _is_loopback(name)


def _is_loopback(address: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


class _Catalog:
    """``opds/catalog.json``, read again only when the file changes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._key: tuple[int, int, int] | None = None
        self._value: object = None

    def load(self) -> tuple[object, datetime] | None:
        """The parsed catalog and when it changed, None when there is none; raises ServeError when it is
        not JSON or cannot be read."""
        path = self.root / CATALOG
        try:
            fd = open_descriptor_inside(path, self.root)
        except FileNotFoundError:
            return None
        except (OSError, OutsideRoot) as exc:
            raise ServeError(f"cannot read: {getattr(exc, 'strerror', None) or exc}", CATALOG) from None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            key = (info.st_ino, info.st_size, info.st_mtime_ns)
            if key != self._key:
                if info.st_size > CATALOG_MAX_BYTES:
                    raise ServeError(f"larger than {CATALOG_MAX_BYTES:,} bytes; not read", CATALOG)
                try:
                    value = json.loads(handle.read(CATALOG_MAX_BYTES + 1))
                except (ValueError, RecursionError) as exc:
                    raise ServeError(f"not valid JSON ({str(exc)[:120]})", CATALOG) from None
                self._key, self._value = key, value
        return self._value, datetime.fromtimestamp(info.st_mtime, timezone.utc)


def _not_modified(request_headers, etag: str, last_modified: str) -> bool:
    """RFC 9110's rules for a GET or HEAD: If-None-Match (weak comparison) decides when it is sent, else
    If-Modified-Since compared at the second."""
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return etag.removeprefix("W/") in wanted
    if_modified_since = request_headers.get("if-modified-since")
    if if_modified_since:
        from email.utils import parsedate_to_datetime

        try:
            since = parsedate_to_datetime(if_modified_since)
            modified = parsedate_to_datetime(last_modified)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        return modified <= since
    return False


def make_app(root: Path, loopback: bool = True):
    """The ASGI application serving the library in ``root`` (a real path).  With ``loopback`` (a server
    bound to a loopback address) a request must name a loopback host: a web page whose name was pointed
    at 127.0.0.1 (DNS rebinding) cannot read the library through a browser on this machine."""
    import anyio
    from starlette.applications import Starlette
    from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
    from starlette.routing import Route

    catalog = _Catalog(root)
    fd_folder = "/proc/self/fd"
    have_proc = os.path.isdir(fd_folder)

    class OpenFileResponse(FileResponse):
        """A FileResponse for a file already opened and checked: it reads that very file (through
        /proc/self/fd, where there is one) and closes the descriptor when the answer is over."""

        def __init__(self, fd: int, real: str, kind: str) -> None:
            self.fd = fd
            super().__init__(f"{fd_folder}/{fd}" if have_proc else real, stat_result=os.fstat(fd),
                             media_type=kind, headers={"cache-control": "no-cache"})

        async def __call__(self, scope, receive, send) -> None:
            try:
                extensions = {k: v for k, v in scope.get("extensions", {}).items() if k != "http.response.pathsend"}
                await super().__call__({**scope, "extensions": extensions}, receive, send)
            finally:
                os.close(self.fd)

    def not_found() -> Response:
        return PlainTextResponse("not found\n", status_code=404)

    def open_file(path: Path) -> tuple[int, str] | None:
        """The checked descriptor of a regular file inside the library and its real path, or None."""
        try:
            fd = open_descriptor_inside(path, root)
        except (OSError, OutsideRoot):
            return None
        return fd, os.path.realpath(path)

    def resolve(request) -> Response | tuple[int, str, str]:
        parts = safe_parts(request.scope["path"])
        if parts is None:
            return not_found()
        wanted_folder = parts[-1] == ""
        target = root.joinpath(*[p for p in parts if p])
        try:
            info = os.stat(target)
            inside = Path(os.path.realpath(target)).is_relative_to(root)
        except (OSError, ValueError):
            return not_found()
        if not inside:
            return not_found()
        if stat.S_ISDIR(info.st_mode):
            index = target / "index.html"
            if not os.path.isfile(index):
                return not_found()  # no listings
            if not wanted_folder:  # /opds → /opds/, so the page's relative links resolve
                raw = request.scope.get("raw_path") or request.scope["path"].encode("utf-8")
                query = request.scope.get("query_string") or b""
                location = raw.decode("latin-1") + "/" + ("?" + query.decode("latin-1") if query else "")
                return RedirectResponse(location, status_code=301)
            target = index
        elif wanted_folder:
            return not_found()
        opened = open_file(target)
        if opened is None:
            return not_found()
        fd, real = opened
        return fd, real, media_type(target.name)

    async def files(request) -> Response:
        found = await anyio.to_thread.run_sync(resolve, request)
        if isinstance(found, Response):
            return found
        fd, real, kind = found
        try:
            response = OpenFileResponse(fd, real, kind)
        except BaseException:
            os.close(fd)
            raise
        if _not_modified(request.headers, response.headers["etag"], response.headers["last-modified"]):
            os.close(fd)
            return Response(status_code=304, headers={key: response.headers[key]
                                                      for key in ("etag", "last-modified", "cache-control")})
        return response

    def answer(term: str, opds2: bool, page: int) -> Response:
        from .publish.opds import search_feed

        try:
            loaded = catalog.load()
        except ServeError as exc:  # unreadable or not JSON: an empty answer, and a word on stderr
            print(f"broadsheet: warning: {exc}", file=sys.stderr, flush=True)
            loaded = ({}, None)
        if loaded is None:
            return PlainTextResponse(f"no {CATALOG}: run broadsheet publish\n", status_code=404)
        body = search_feed(loaded[0], term, opds2=opds2, page=page)
        return Response(body, media_type="application/opds+json" if opds2 else ACQUISITION,
                        headers={"cache-control": "no-cache"})

    def searching(opds2: bool):
        async def search(request) -> Response:
            term = request.query_params.get("query" if opds2 else "q", "")[:MAX_TERM]
            number = request.query_params.get("page", "1")
            page = min(int(number), MAX_PAGE) if number.isascii() and number.isdigit() and len(number) < 9 else 1
            return await anyio.to_thread.run_sync(answer, term, opds2, page)

        return search

    app = Starlette(routes=[Route(SEARCH, searching(False), methods=["GET"]),
                            Route(SEARCH_OPDS2, searching(True), methods=["GET"]),
                            Route("/{path:path}", files, methods=["GET"])])

    async def with_headers(scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] not in ("GET", "HEAD"):  # before any routing: every other method, every path
            response = PlainTextResponse("method not allowed\n", status_code=405, headers={"allow": "GET, HEAD"})
            await response(scope, receive, _adding_headers(send))
            return
        if loopback and not _loopback_host(dict(scope.get("headers") or ()).get(b"host", b"")):
            response = PlainTextResponse("this server answers only to localhost\n", status_code=403)
            await response(scope, receive, _adding_headers(send))
            return
        await app(scope, receive, _adding_headers(send))

    return with_headers


def _adding_headers(send):
    async def sending(message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *SECURITY_HEADERS]}
        await send(message)

    return sending


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (0: a free port), or ServeError naming the address."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise ServeError(f"cannot listen on {host}: {getattr(exc, 'strerror', None) or exc}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
            try:  # "::" also takes IPv4 where the system allows it
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            except OSError:
                pass
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {_host_port(host, port)}: {exc.strerror or exc}") from None
    sock.set_inheritable(False)
    return sock


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _reachable_address(bound: str) -> str:
    """The address to print: the bound one, or for 0.0.0.0 and :: the address this machine reaches its
    network from (a UDP socket "connected" without sending anything), else its name."""
    if bound not in ("0.0.0.0", "::"):
        return bound
    family, probe = (socket.AF_INET6, "2001:db8::1") if bound == "::" else (socket.AF_INET, "192.0.2.1")
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as udp:
            udp.connect((probe, 9))
            return udp.getsockname()[0]
    except OSError:
        if bound == "::":
            return _reachable_address("0.0.0.0")
        return socket.gethostname()


def library_root(folder: Path) -> Path:
    """The real path of a published library, or ServeError saying to publish it first."""
    index = Path(folder) / "index.html"
    if not os.path.isdir(folder) or not os.path.isfile(index):
        raise ServeError(f"no published library here (no index.html); run `broadsheet publish {folder}` first",
                         folder)
    return Path(os.path.realpath(folder))


def serve(folder: Path, host: str = "127.0.0.1", port: int = 8080, quiet: bool = False) -> None:
    """Serve the library in ``folder`` until SIGINT, SIGTERM or SIGHUP; return normally then."""
    root = library_root(folder)
    stopping: list[int] = []
    server = None

    def stop(signum, frame) -> None:
        stopping.append(signum)
        if server is not None:
            server.should_exit = True

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        import uvicorn

        sock = _listen(host, port)
        bound = sock.getsockname()
        address, real_port = bound[0], bound[1]
        shown = _reachable_address(address)
        url = f"http://[{shown}]:{real_port}/" if ":" in shown else f"http://{shown}:{real_port}/"
        if not _is_loopback(address):
            print(f"broadsheet: warning: listening on {_host_port(address, real_port)}: every machine that can "
                  "reach this one can read the library, without a password", file=sys.stderr, flush=True)
        print(f"Serving {root} at {url} (Ctrl-C stops)", flush=True)
        print(f"OPDS catalog: {url}{ROOT_FEED.lstrip('/')}", flush=True)
        config = uvicorn.Config(
            make_app(root, loopback=_is_loopback(address)), lifespan="off", http="h11", ws="none", loop="asyncio", interface="asgi3",
            log_config=_log_config(), access_log=not quiet, server_header=False, proxy_headers=False,
            timeout_graceful_shutdown=GRACEFUL_SECONDS, limit_concurrency=MAX_CONNECTIONS)
        server = uvicorn.Server(config)
        if stopping:
            sock.close()
            return
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class _NoCancelledTracebacks:
    """A logging filter: a download still running when the server stops is cancelled, which uvicorn reports
    with a traceback; the stop is reported in one line ("Cancel 1 running task(s) …") and that is enough."""

    def filter(self, record) -> bool:
        import asyncio

        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, asyncio.CancelledError)


def _log_config() -> dict[str, Any]:
    """uvicorn's loggers on stderr: its own messages from warnings up, one line per request (unless -q)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(message)s", "datefmt": "%Y-%m-%d %H:%M:%S"}},
        "filters": {"cancelled": {"()": _NoCancelledTracebacks}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["cancelled"],
                                "stream": "ext://sys.stderr"}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            "uvicorn.error": {"handlers": [], "level": "WARNING", "propagate": True},
            "uvicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }
