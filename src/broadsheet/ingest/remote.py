"""Remote pictures, fetched only when the user asks (``--allow-remote``).

One door: http(s) only, no redirects (a redirect could lead anywhere, the cloud metadata
address included), no proxy from the environment, and only public addresses: the host is
resolved here, every address it resolves to is checked (loopback, private, link-local,
multicast, reserved, unspecified, site-local, shared 100.64/10, and those addresses inside
IPv4-mapped, IPv4-compatible, 6to4, Teredo and NAT64 forms are refused, whatever the URL's
spelling of them), and the connection goes to exactly the address checked, so a name cannot
resolve to another address between the check and the connection.  Hosts the user names
(``--allow-remote-hosts``) may have internal addresses.  One download has a total deadline
(connection, headers and body: ``limits.remote_seconds``), all downloads of a build
together another (``limits.remote_total_seconds``), and one download a size bound
(``limits.remote_bytes``); the content type must say picture (the decoder checks the bytes).
Fetched files live in a private temporary folder for the life of the process, each URL
fetched once (a refusal is remembered too).
"""

from __future__ import annotations

import atexit
import hashlib
import http.client
import ipaddress
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, urlsplit

from .. import limits

TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
CHUNK = 64 * 1024
_folder: Path | None = None
_fetched: dict[tuple[str, tuple[str, ...]], Path | RemoteError] = {}
_spent = 0.0  # seconds all downloads of this process have taken

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated IPv4-compatible addresses

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class RemoteError(Exception):
    """The picture could not be fetched within the rules; the message says why."""


class InternalAddress(RemoteError):
    """The host is, or resolves to, an address that is not public (loopback, private, link-local,
    shared, multicast, reserved, unspecified); ``reason`` says which ("10.0.0.5 is a private
    address").  Nothing was connected to."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"refused: {reason}; only public addresses are fetched "
                         "(--allow-remote-hosts names exceptions)")
        self.reason = reason


def folder() -> Path:
    """Return the private folder fetched pictures are kept in (removed at exit)."""
    global _folder
    if _folder is None:
        _folder = Path(tempfile.mkdtemp(prefix="broadsheet-remote-"))
        atexit.register(shutil.rmtree, _folder, True)
        from ..output import remember_temporary

        remember_temporary(_folder)  # a stopped build's supervisor removes it
    return _folder


# ------------------------------------------------------------------------------ addresses

def _embedded(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv6 address carries, and the form that carries it."""
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", ip.ipv4_mapped
    if ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    if ip.teredo is not None:
        return "Teredo", ip.teredo[1]
    if any(ip in network for network in _NAT64):
        return "NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _COMPATIBLE and int(ip) > 1:
        return "IPv4-compatible", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal(address: str | Address) -> str | None:
    """Say why a connection to ``address`` is refused ("a loopback address", …); None for a public one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0]) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        carried = _embedded(ip)
        if carried is not None:
            form, inner = carried
            reason = refusal(inner)
            if reason:
                return f"{reason} in {form} form"
    for flag, reason in (
        ("is_unspecified", "the unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_site_local", "a site-local address"),
    ):
        if getattr(ip, flag, False):
            return reason
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
        return "a shared (carrier NAT) address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "not a public address"
    return None


def canonical_host(host: str) -> str:
    """The one spelling of a URL's host: an IP address in its standard form (``127.1``,
    ``0x7f000001``, ``2130706433`` and ``017700000001`` are all ``127.0.0.1``), or a lower-case
    ASCII name without a trailing dot.  Raise ValueError for what is neither."""
    host = host.strip().rstrip(".").lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        raise ValueError("no host")
    if len(host) > 253:
        raise ValueError(f"a host name of {len(host):,} characters is longer than 253")
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        pass
    if all(c in "0123456789abcdefx." for c in host):  # the old inet_aton spellings of IPv4 addresses
        try:
            return str(ipaddress.IPv4Address(socket.inet_aton(host)))
        except OSError:
            pass
    try:
        name = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError(f"{host[:100]!r} is not a host name") from None
    if not name or any(not (c.isalnum() or c in "-._") for c in name):
        raise ValueError(f"{host[:100]!r} is not a host name")
    return name if name == host else canonical_host(name)  # full-width digits and dots are an address too


def host_pattern(text: str) -> str:
    """Check one ``--allow-remote-hosts`` entry (a host, an address, or ``*.domain``); return its
    canonical form.  Raise ValueError for anything else."""
    text = text.strip()
    if text.startswith("*."):
        domain = canonical_host(text[2:])
        if "." not in domain and not domain.isalnum():
            raise ValueError(f"{text!r} names no domain")
        return "*." + domain
    if "*" in text:
        raise ValueError(f"{text!r}: only a leading '*.' is understood (as in *.example.org)")
    return canonical_host(text)


def allowed(host: str, patterns: Iterable[str]) -> bool:
    """Whether the canonical ``host`` is one of the named ``patterns`` (canonical, see host_pattern)."""
    for pattern in patterns:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]):
                return True
        elif host == pattern:
            return True
    return False


def _resolve(host: str, port: int, deadline: float, seconds: float) -> list[tuple]:
    """getaddrinfo in a thread, so that a slow resolver does not outlast the deadline."""
    answer: dict[str, object] = {}

    def work() -> None:
        try:
            answer["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as exc:
            answer["error"] = exc

    thread = threading.Thread(target=work, name="broadsheet-resolve", daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()))
    if thread.is_alive():
        raise RemoteError(f"resolving {host} took longer than the limit of {seconds:.3g} s")
    if "error" in answer:
        raise RemoteError(f"cannot resolve {host}: {getattr(answer['error'], 'strerror', None) or answer['error']}")
    infos = [info for info in answer["infos"] if info[0] in (socket.AF_INET, socket.AF_INET6)]
    if not infos:
        raise RemoteError(f"{host} has no address")
    return infos


# ------------------------------------------------------------------------------ connection

class _Connection(http.client.HTTPConnection):
    """An HTTP(S) connection to one vetted address: the Host header, TLS SNI and the certificate
    check use the URL's host name; the socket goes to ``address`` and nowhere else."""

    def __init__(self, host: str, port: int, family: int, address: tuple, tls: bool, deadline: float) -> None:
        super().__init__(host, port, timeout=max(0.01, deadline - time.monotonic()))
        self._family, self._address, self._tls, self._deadline = family, address, tls, deadline

    def connect(self) -> None:
        sock = socket.socket(self._family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.settimeout(max(0.01, self._deadline - time.monotonic()))
            sock.connect(self._address)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock = sock
            if self._tls:
                context = ssl.create_default_context()
                sock = context.wrap_socket(sock, server_hostname=self.host, do_handshake_on_connect=False)
                self.sock = sock  # before the handshake, so that the deadline can cut a slow one
                sock.settimeout(max(0.01, self._deadline - time.monotonic()))
                sock.do_handshake()
        except BaseException:
            self.sock = None
            sock.close()
            raise


def _cut(connection: _Connection, expired: threading.Event) -> None:
    """At the deadline: end whatever read is waiting on the connection."""
    expired.set()
    sock = connection.sock
    if sock is not None:
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass


def _download(connection: _Connection, target: str, deadline: float, max_bytes: int) -> tuple[str, bytes]:
    connection.request("GET", target, headers={"User-Agent": "broadsheet", "Accept": "image/*",
                                               "Accept-Encoding": "identity", "Connection": "close"})
    response = connection.getresponse()
    if 300 <= response.status < 400:
        location = limits.quote(response.getheader("Location") or "", 200)
        raise RemoteError(f"redirected ({response.status}) to {location}; redirects are not followed")
    if response.status != 200:
        reason = " ".join(str(response.reason).split())[:100]
        raise RemoteError(f"the server answered {response.status} {reason}")
    kind = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
    if kind not in TYPES:
        raise RemoteError(f"content type {kind[:100] or 'none'!r} is not a picture")
    declared = response.getheader("Content-Length")
    if declared and declared.strip().isdigit() and int(declared) > max_bytes:
        raise RemoteError(f"{int(declared):,} bytes is more than the limit of {max_bytes:,}")
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        if connection.sock is not None:
            connection.sock.settimeout(max(0.01, left))
        chunk = response.read1(CHUNK) if hasattr(response, "read1") else response.read(CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise RemoteError(f"more than the limit of {max_bytes:,} bytes")
        chunks.append(chunk)
    return kind, b"".join(chunks)


def fetch_picture(url: str, hosts: Iterable[str] = ()) -> Path:
    """Fetch one picture and return its local file; raise RemoteError otherwise.

    ``hosts``: canonical host patterns (see :func:`host_pattern`) whose addresses may be internal.
    """
    hosts = tuple(hosts)
    key = (url, hosts)
    if key in _fetched:
        known = _fetched[key]
        if isinstance(known, RemoteError):
            raise known
        return known
    global _spent
    policy = limits.current()
    left = policy.remote_total_seconds - _spent
    if left <= 0:
        raise RemoteError(f"not fetched: downloads took the limit of {policy.remote_total_seconds:g} s "
                          "for one build")
    start = time.monotonic()
    try:
        path = _fetch(url, hosts, min(policy.remote_seconds, left))
    except RemoteError as exc:
        _fetched[key] = exc
        raise
    finally:
        _spent += time.monotonic() - start
    _fetched[key] = path
    return path


def _fetch(url: str, hosts: tuple[str, ...], seconds: float) -> Path:
    max_bytes = limits.current().remote_bytes
    deadline = time.monotonic() + seconds
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RemoteError(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise RemoteError("only http and https are fetched")
    if parts.username is not None or parts.password is not None:
        raise RemoteError("URLs with a user name or password are not fetched")
    try:
        host = canonical_host(parts.hostname or "")
    except ValueError as exc:
        raise RemoteError(f"not a valid host: {exc}") from None
    if port is None:
        port = 443 if scheme == "https" else 80
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    target = "".join(c if ord(c) < 128 else quote(c) for c in target)  # 图片.jpg as UTF-8, %-escaped
    if any(ord(c) < 33 or ord(c) == 127 for c in target):
        raise RemoteError("the URL's path holds spaces or control characters")

    infos = _resolve(host, port, deadline, seconds)
    if not allowed(host, hosts):
        for info in infos:
            reason = refusal(info[4][0])
            if reason:
                found = str(ipaddress.ip_address(info[4][0].split("%", 1)[0]))
                said = f"{host} is" if found == host else f"{host} resolves to {found},"
                raise InternalAddress(f"{said} {reason}")

    expired = threading.Event()
    failure: Exception | None = None
    for family, _, _, _, address in infos:
        if time.monotonic() >= deadline:
            break
        connection = _Connection(host, port, family, address, scheme == "https", deadline)
        timer = threading.Timer(max(0.0, deadline - time.monotonic()), _cut, (connection, expired))
        timer.daemon = True
        timer.start()
        try:
            try:
                connection.connect()
            except OSError as exc:
                failure = exc
                continue  # the name's next address
            kind, data = _download(connection, target, deadline, max_bytes)
        except RemoteError:
            raise
        except (http.client.HTTPException, OSError, ValueError) as exc:
            if expired.is_set() or isinstance(exc, TimeoutError) or time.monotonic() >= deadline:
                raise RemoteError(f"took longer than the limit of {seconds:.3g} s") from None
            raise RemoteError(f"cannot fetch: {limits.quote(str(exc) or type(exc).__name__, 200)}") from None
        finally:
            timer.cancel()
            connection.close()
        name = hashlib.sha256(url.encode("utf-8")).hexdigest()[:24] + "." + TYPES[kind]
        path = folder() / name
        path.write_bytes(data)
        return path
    if failure is None or expired.is_set() or isinstance(failure, TimeoutError) or time.monotonic() >= deadline:
        raise RemoteError(f"took longer than the limit of {seconds:.3g} s")
    raise RemoteError(f"cannot connect: {getattr(failure, 'strerror', None) or failure}")
