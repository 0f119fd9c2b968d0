"""Headless Chromium for the tests, driven by the DevTools protocol over a pipe.

``--remote-debugging-pipe`` makes Chromium read protocol commands from fd 3 and write replies
and events to fd 4, each a JSON message ended by a NUL byte: no port, no websocket client, no
dependency beyond the standard library.  Pages are served from a folder by a loopback HTTP
server (127.0.0.1, a free port), as a reading system would load them: same-origin, so that
``@font-face`` files load (file: URLs would make Chromium refuse them by CORS).

What counts as an error on a page (:meth:`Chromium.load` returns them):

* ``Runtime.consoleAPICalled`` of type ``error`` or ``assert``;
* ``Runtime.exceptionThrown`` (a script error; EPUBs carry no scripts, so none is expected);
* ``Log.entryAdded`` of level ``error``: what the browser itself reports — a resource that fails
  to load (``net::ERR_…``, 404), a blocked request; and the warnings about a font it cannot use
  (``Failed to decode downloaded font``, ``OTS parsing error``);
* a ``FontFace`` of ``document.fonts`` whose status is ``error``;
* an XHTML well-formedness error, which Chromium shows as a page holding ``<parsererror>``.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import select
import shutil
import subprocess
import threading
import time
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars"]
# Chromium reports a font it cannot use as a warning; for an EPUB's own fonts that is an error.
_FONT_FAILURES = ("Failed to decode downloaded font", "OTS parsing error")


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".xhtml": "application/xhtml+xml", ".css": "text/css", ".otf": "font/otf",
                      ".ttf": "font/ttf", ".woff2": "font/woff2", ".ncx": "application/x-dtbncx+xml"}

    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        pass

    def do_GET(self):  # noqa: N802 - the name of the base class
        if self.path == "/favicon.ico":  # asked for by the browser, not by the page: no error to report
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()


class Server:
    """A loopback HTTP server over one folder, in a thread."""

    def __init__(self, folder: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler, bind_and_activate=False)
        self.httpd.request_queue_size = 64  # a book's documents, fonts and pictures asked for at once
        self.httpd.server_bind()
        self.httpd.server_activate()
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Chromium:
    """One headless Chromium with one page; :meth:`load` navigates it and gathers what went wrong."""

    def __init__(self, profile: Path, binary: str | None = None, timeout: float = 60) -> None:
        binary = binary or chromium_binary()
        if binary is None:
            raise RuntimeError("chromium is not installed")
        self.timeout = timeout
        to_read, self._to_write = os.pipe()
        self._from_read, from_write = os.pipe()

        def wire_fds() -> None:  # in the child: the command pipe on fd 3, the reply pipe on fd 4
            a, b = os.dup(to_read), os.dup(from_write)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.log = profile / "chromium.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [binary, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=False, preexec_fn=wire_fds,
            )
        os.close(to_read)
        os.close(from_write)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=self.session)

    # --- the protocol --------------------------------------------------------------------------

    def _send(self, message: dict) -> None:
        data = json.dumps(message).encode("utf-8") + b"\0"
        while data:
            written = os.write(self._to_write, data)
            data = data[written:]

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or self.process.poll() is not None:
                raise TimeoutError(f"chromium did not answer (see {self.log})")
            ready, _, _ = select.select([self._from_read], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self._from_read, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"chromium closed the pipe (see {self.log})")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._send(message)
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> dict:
        deadline = time.monotonic() + self.timeout
        for index, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(index)
        while True:
            event = self._receive(deadline)
            if event.get("method") == method:
                return event
            self.events.append(event)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True}, session=self.session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    # --- pages -----------------------------------------------------------------------------------

    def load(self, url: str, viewport: tuple[int, int] | None = None) -> list[str]:
        """Open ``url``, wait until it and its fonts have loaded; return the errors seen on the way."""
        self.events.clear()
        if viewport:
            self.call("Emulation.setDeviceMetricsOverride", {"width": viewport[0], "height": viewport[1],
                                                             "deviceScaleFactor": 1, "mobile": False},
                      session=self.session)
        navigation = self.call("Page.navigate", {"url": url}, session=self.session)
        if navigation.get("errorText"):
            return [f"navigation: {navigation['errorText']}"]
        self.wait_for("Page.loadEventFired")
        self.evaluate("document.fonts.ready.then(() => true)")
        self.call("Runtime.evaluate", {"expression": "1"}, session=self.session)  # flush pending events
        errors = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append("console: " + " ".join(str(a.get("value", a.get("description", "")))
                                                     for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                errors.append("exception: " + params.get("exceptionDetails", {}).get("text", ""))
            elif method == "Log.entryAdded":
                entry = params.get("entry", {})
                text = entry.get("text", "")
                if entry.get("url", "").endswith("/favicon.ico"):
                    continue  # the browser's own request, not the page's (and a loaded machine may drop it)
                if entry.get("level") == "error" or text.startswith(_FONT_FAILURES):
                    errors.append(f"{entry.get('source')}: {text} {entry.get('url', '')}".strip())
        for family in self.evaluate("[...document.fonts].filter(f => f.status == 'error').map(f => f.family)"):
            errors.append(f"font: {family} failed to load")
        if self.evaluate("document.getElementsByTagName('parsererror').length"):
            errors.append("XHTML: " + self.evaluate("document.getElementsByTagName('parsererror')[0].textContent"))
        return errors

    def screenshot(self) -> bytes:
        import base64

        data = self.call("Page.captureScreenshot", {"format": "png"}, session=self.session)["data"]
        return base64.b64decode(data)

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except Exception:  # noqa: BLE001 - it may already be gone
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_write)
        os.close(self._from_read)
