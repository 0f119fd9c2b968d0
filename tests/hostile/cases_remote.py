"""The remote door (``--allow-remote``): internal addresses (refused: exit 1, one line naming the article and
the URL, no connection made), and a server that drips (dropped at the deadline, with a warning).

Each case starts a real HTTP server on every local address (one IPv6 socket that takes IPv4 too,
so ``0.0.0.0``, ``[::]``, ``127.x`` and ``[::1]`` all reach it) that counts the connections it
accepts; the checks read the count.
"""

from __future__ import annotations

import http.server
import io
import socket
import threading
import time
from pathlib import Path

from hostile.corpus import case, md

#: The URL host spellings of this machine's own addresses that must all be refused.
INTERNAL_HOSTS = (
    "127.0.0.1", "localhost", "LocalHost", "[::1]", "[::ffff:127.0.0.1]", "[0:0:0:0:0:ffff:7f00:1]",
    "[::127.0.0.1]", "0.0.0.0", "0", "[::]", "0x7f000001", "2130706433", "127.1", "017700000001",
    "0x7f.1", "127.000.000.001", "127.0.0.1.", "localhost.", "127.254.1.2",
)


def _picture() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (30, 120, 60)).save(buffer, format="JPEG")
    return buffer.getvalue()


class _Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    accepted = 0

    def server_bind(self) -> None:
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()

    def get_request(self):
        request = super().get_request()
        self.accepted += 1
        return request


class _ServerV4(_Server):
    address_family = socket.AF_INET


class PictureServer:
    """An HTTP server on every local address that counts accepted connections and requests.

    Paths: /pic.jpg a picture; /redirect.jpg a redirect to the cloud metadata address;
    /page.jpg HTML; /huge.jpg declares 500 MB; /endless.jpg streams without a length;
    /drip.jpg sends its headers, then one byte a second for a minute; /slow-head.jpg drips its
    status line.  ``hosts`` records the Host header of each request; ``tls``, an ssl.SSLContext,
    makes it an HTTPS server."""

    def __init__(self, tls=None) -> None:
        self.picture = _picture()
        self.requests: list[str] = []
        self.hosts: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the stdlib's name
                outer.requests.append(self.path)
                outer.hosts.append(self.headers.get("Host", ""))
                try:
                    self._answer()
                except OSError:
                    pass

            def _answer(self):
                path = self.path.split("?", 1)[0]
                if path == "/pic.jpg":
                    self._head("image/jpeg", len(outer.picture))
                    self.wfile.write(outer.picture)
                elif path == "/redirect.jpg":
                    self.send_response(302)
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                    self.end_headers()
                elif path == "/page.jpg":
                    self._head("text/html")
                    self.wfile.write(b"<html>not a picture</html>")
                elif path == "/huge.jpg":
                    self._head("image/jpeg", 500 * 2**20)
                elif path == "/endless.jpg":
                    self._head("image/jpeg")
                    block = outer.picture[:2] + bytes(2**20 - 2)
                    for _ in range(64):
                        self.wfile.write(block)
                elif path == "/drip.jpg":
                    self._head("image/jpeg", len(outer.picture))
                    self._drip(outer.picture)
                elif path == "/slow-head.jpg":
                    self._drip(b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n\r\n" + outer.picture)
                else:
                    self.send_response(404)
                    self.end_headers()

            def _head(self, kind: str, length: int | None = None) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                if length is not None:
                    self.send_header("Content-Length", str(length))
                self.end_headers()
                self.wfile.flush()

            def _drip(self, data: bytes) -> None:
                for n in range(min(len(data), 60)):
                    self.wfile.write(data[n:n + 1])
                    self.wfile.flush()
                    time.sleep(1)

            def log_message(self, *args):
                pass

        try:
            self.httpd: _Server = _Server(("::", 0), Handler)
        except OSError:  # no IPv6 here
            self.httpd = _ServerV4(("0.0.0.0", 0), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.base = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def accepted(self) -> int:
        return self.httpd.accepted

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


_SERVERS: dict[Path, PictureServer] = {}


def _page(root: Path, urls: list[str]) -> Path:
    ed = root / "ed"
    ed.mkdir(parents=True)
    images = "\n\n".join(f'<img src="{url}" alt="x">' for url in urls)
    (ed / "a.md").write_text(md("Remote", images + "\n\nText of the article."), encoding="utf-8")
    return ed


def _one_internal(host: str):
    """A case: one picture at an internal address, refused before any connection."""
    def write(root: Path) -> tuple[Path, list[str]]:
        server = _SERVERS[root] = PictureServer()
        return _page(root, [f"http://{host}:{server.port}/pic.jpg"]), ["-f", "epub", "--allow-remote"]
    return write


def _no_connection_to(reason: str):
    def check(root: Path, out: Path, result) -> None:
        server = _SERVERS.pop(root)
        server.close()
        assert server.accepted == 0 and server.requests == [], (server.accepted, server.requests)
        assert result.returncode == 1 and not (out.exists() and [p for p in out.rglob("*") if p.is_file()])
        (line,) = result.stderr.strip().splitlines()
        assert f": {reason}" in line and line.endswith(" (name the host with --allow-remote-hosts to fetch it)"), line
    return check


# One spelling a case (a build stops at the first picture refused; every spelling in-process: tests/test_remote.py).
for _name, _host, _reason in (
        ("loopback", "127.0.0.1", "127.0.0.1 is a loopback address"),
        ("localhost", "localhost", "localhost resolves to"),
        ("ipv4-mapped", "[::ffff:127.0.0.1]", "::ffff:7f00:1 is a loopback address in IPv4-mapped form"),
        ("hex", "0x7f000001", "127.0.0.1 is a loopback address"),
        ("zero", "0", "0.0.0.0 is the unspecified address")):
    case(f"remote-internal-address-{_name}", "refused",
         "a.md: picture http://", seconds=60, check=_no_connection_to(_reason))(_one_internal(_host))


def _cut_at_deadline(root: Path, out: Path, result) -> None:
    server = _SERVERS.pop(root)
    server.close()
    assert sorted(server.requests) == ["/drip.jpg", "/slow-head.jpg"], server.requests
    assert server.accepted == 2  # the drip and the slow status line were both really served
    assert result.stderr.count("took longer than the limit of 2 s") == 2, result.stderr


@case("remote-server-dripping-a-byte-a-second", "built", "took longer than the limit of 2 s", seconds=30,
      check=_cut_at_deadline)
def _(root):
    server = _SERVERS[root] = PictureServer()
    urls = [f"{server.base}/drip.jpg", f"{server.base}/slow-head.jpg"]
    return _page(root, urls), ["-f", "epub", "--allow-remote", "--allow-remote-hosts", "127.0.0.1",
                               "--remote-timeout", "2"]
