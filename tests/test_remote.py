"""The network door: nothing is fetched unless asked; asked, only pictures, no redirects, bounded size."""

from __future__ import annotations

import http.server
import io
import threading

import pytest
from PIL import Image

from conftest import epub_files, run_cli
from test_cli import write


@pytest.fixture
def server():
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (30, 120, 60)).save(buffer, format="JPEG")
    picture = buffer.getvalue()
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            requests.append(self.path)
            if self.path == "/pic.jpg":
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(picture)))
                self.end_headers()
                self.wfile.write(picture)
            elif self.path == "/redirect.jpg":
                self.send_response(302)
                self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                self.end_headers()
            elif self.path == "/page.jpg":
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"<html>not a picture</html>")
            elif self.path == "/huge.jpg":
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(500 * 2**20))
                self.end_headers()
            else:
                self.send_response(404)
                self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", requests
    httpd.shutdown()
    httpd.server_close()


def article(tmp_path, base):
    return write(tmp_path / "ed/a.md", f"---\ntitle: Remote\n---\n\n![kept]({base}/pic.jpg)\n\n"
                 f"![redirect]({base}/redirect.jpg)\n\n![page]({base}/page.jpg)\n\n![huge]({base}/huge.jpg)\n\n"
                 "Text.\n")


def test_nothing_is_fetched_unless_asked(tmp_path, server):
    base, requests = server
    article(tmp_path, base)
    result = run_cli("build", tmp_path / "ed", "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert requests == []
    assert "--allow-remote" in result.stderr and f"{base}/pic.jpg" in result.stderr


def test_allow_remote_fetches_pictures_only(tmp_path, server, assert_valid_epub):
    base, requests = server
    article(tmp_path, base)
    out = tmp_path / "out"
    result = run_cli("build", tmp_path / "ed", "--out", out, "-f", "epub", "--allow-remote")
    assert result.returncode == 0, result.stderr
    assert sorted(requests) == ["/huge.jpg", "/page.jpg", "/pic.jpg", "/redirect.jpg"]  # each once
    assert "redirects are not followed" in result.stderr
    assert "'text/html' is not a picture" in result.stderr
    assert "more than the limit" in result.stderr
    epub = next(out.glob("*.epub"))
    assert_valid_epub(epub)
    pictures = [n for n in epub_files(epub) if n.startswith("EPUB/images/") and n != "EPUB/images/cover.jpg"]
    assert len(pictures) == 1
