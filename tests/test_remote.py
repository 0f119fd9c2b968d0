"""The network door: nothing is fetched unless asked; asked, only pictures, only from public addresses
(named hosts excepted), no redirects, bounded size and a total deadline per download."""

from __future__ import annotations

import socket
import time

import pytest

from conftest import epub_files, run_cli
from hostile.cases_remote import INTERNAL_HOSTS, PictureServer
from test_cli import write

REFUSED = "only public addresses are fetched"


@pytest.fixture
def server():
    picture_server = PictureServer()
    yield picture_server
    picture_server.close()


def page(tmp_path, urls):
    body = "\n\n".join(f'<img src="{url}" alt="x">' for url in urls)
    return write(tmp_path / "ed/a.md", f"---\ntitle: Remote\n---\n\n{body}\n\nText.\n").parent


def article(tmp_path, base):
    return write(tmp_path / "ed/a.md", f"---\ntitle: Remote\n---\n\n![kept]({base}/pic.jpg)\n\n"
                 f"![redirect]({base}/redirect.jpg)\n\n![page]({base}/page.jpg)\n\n![huge]({base}/huge.jpg)\n\n"
                 f"![endless]({base}/endless.jpg)\n\nText.\n")


def pictures(out):
    epub = next(out.glob("*.epub"))
    return [n for n in epub_files(epub) if n.startswith("EPUB/images/") and n != "EPUB/images/cover.jpg"]


def test_nothing_is_fetched_unless_asked(tmp_path, server):
    article(tmp_path, server.base)
    result = run_cli("build", tmp_path / "ed", "--out", tmp_path / "out", "-f", "epub",
                     "--allow-remote-hosts", "127.0.0.1")  # names exceptions, fetches nothing by itself
    assert result.returncode == 0, result.stderr
    assert server.requests == [] and server.accepted == 0
    assert "--allow-remote" in result.stderr and f"{server.base}/pic.jpg" in result.stderr


def test_allow_remote_fetches_pictures_only(tmp_path, server, assert_valid_epub):
    article(tmp_path, server.base)
    out = tmp_path / "out"
    result = run_cli("build", tmp_path / "ed", "--out", out, "-f", "epub", "--allow-remote",
                     "--allow-remote-hosts", "127.0.0.1")
    assert result.returncode == 0, result.stderr
    assert sorted(server.requests) == ["/endless.jpg", "/huge.jpg", "/page.jpg", "/pic.jpg", "/redirect.jpg"]
    assert "redirects are not followed" in result.stderr
    assert "'text/html' is not a picture" in result.stderr
    assert "524,288,000 bytes is more than the limit of 20,971,520" in result.stderr  # declared
    assert "more than the limit of 20,971,520 bytes" in result.stderr  # counted while reading
    assert_valid_epub(next(out.glob("*.epub")))
    assert len(pictures(out)) == 1


def test_every_internal_spelling_is_refused_before_any_connection(server, monkeypatch):
    from broadsheet.ingest import remote

    monkeypatch.setattr(remote, "_fetched", {})
    urls = [f"http://{host}:{server.port}/pic.jpg" for host in INTERNAL_HOSTS]
    urls.append(f"https://[::1]:{server.port}/pic.jpg")
    reasons = []
    for url in urls:
        with pytest.raises(remote.InternalAddress) as refusal:
            remote.fetch_picture(url)
        assert REFUSED in str(refusal.value)
        reasons.append(refusal.value.reason)
    assert server.accepted == 0 and server.requests == []
    assert "localhost resolves to 127.0.0.1, a loopback address" in reasons \
        or "localhost resolves to ::1, a loopback address" in reasons
    assert "::ffff:7f00:1 is a loopback address in IPv4-mapped form" in reasons
    assert "0.0.0.0 is the unspecified address" in reasons


@pytest.mark.parametrize("host, reason", [
    ("127.0.0.1", "127.0.0.1 is a loopback address"),
    ("0x7f000001", "127.0.0.1 is a loopback address"),
    ("[::1]", "::1 is a loopback address"),
    ("localhost", "localhost resolves to "),
])
def test_an_internal_picture_refuses_the_build(tmp_path, server, host, reason):
    """With --allow-remote, a picture at an internal address is an attack: exit 1, one line naming the article,
    the URL and how to allow it, nothing written, and the server never reached."""
    url = f"http://{host}:{server.port}/pic.jpg"
    out = tmp_path / "out"
    source = page(tmp_path, ["http://user:pw@example.org/x.jpg", url])  # not an address refusal: a warning
    result = run_cli("build", source, "--out", out, "-f", "epub", "--allow-remote")
    assert result.returncode == 1, result.stderr
    warning, line = result.stderr.strip().splitlines()
    assert "dropped: URLs with a user name or password are not fetched" in warning
    assert line.startswith(f"broadsheet: error: {source / 'a.md'}: picture {url}: {reason}"), line
    assert line.endswith(" (name the host with --allow-remote-hosts to fetch it)"), line
    assert server.accepted == 0 and server.requests == []
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]


def test_the_message_of_a_private_address(tmp_path):
    source = page(tmp_path, ["http://10.0.0.5/x.jpg"])
    result = run_cli("inspect", source, "--allow-remote")
    assert result.returncode == 1 and not result.stdout
    assert result.stderr.strip() == (f"broadsheet: error: {source / 'a.md'}: picture http://10.0.0.5/x.jpg: "
                                     "10.0.0.5 is a private address (name the host with --allow-remote-hosts to "
                                     "fetch it)")


def test_network_faults_stay_warnings(tmp_path, server):
    """Not an address refusal: a 404, a timeout, a refused connection, a non-picture drop the picture only."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    urls = [f"{server.base}/missing.jpg", f"{server.base}/page.jpg", f"http://127.0.0.1:{port}/x.jpg"]
    result = run_cli("build", page(tmp_path, urls), "--out", tmp_path / "out", "-f", "epub", "--allow-remote",
                     "--allow-remote-hosts", "127.0.0.1")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("dropped") == 3, result.stderr
    assert "the server answered 404" in result.stderr and "cannot connect" in result.stderr


def test_the_listener_would_have_answered_every_spelling(tmp_path, server):
    """The refusals above are the door's doing: the same spellings, connected to plainly, reach the server."""
    reached = 0
    for host in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "2130706433", "127.1", "127.254.1.2"):
        try:
            with socket.create_connection((host, server.port), timeout=2):
                reached += 1
        except OSError:
            pass
    deadline = time.monotonic() + 2
    while server.accepted < reached and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reached >= 6 and server.accepted == reached


@pytest.mark.parametrize("allowed", ["127.0.0.1", "localhost", "LOCALHOST.", "*.localhost,127.1"])
def test_named_hosts_may_be_internal(tmp_path, server, allowed):
    host = "localhost" if allowed.lower().startswith("localhost") else "127.0.0.1"
    out = tmp_path / "out"
    source = page(tmp_path, [f"http://{host}:{server.port}/pic.jpg"])
    result = run_cli("build", source, "--out", out, "-f", "epub", "--allow-remote", "--allow-remote-hosts", allowed)
    assert result.returncode == 0, result.stderr
    assert server.requests == ["/pic.jpg"]
    assert server.hosts == [f"{host.lower()}:{server.port}"]
    assert len(pictures(out)) == 1
    source = page(tmp_path / "2", [f"http://{host}:{server.port}/pic.jpg", f"http://[::1]:{server.port}/pic.jpg"])
    result = run_cli("build", source, "--out", tmp_path / "out2", "-f", "epub", "--allow-remote",
                     "--allow-remote-hosts", allowed)
    assert result.returncode == 1  # the named host only; [::1] is still refused
    assert "::1 is a loopback address (name the host with --allow-remote-hosts" in result.stderr, result.stderr
    assert server.requests == ["/pic.jpg", "/pic.jpg"]  # one per build: the named host's


def test_a_dripping_server_is_cut_at_the_deadline(tmp_path, server):
    source = page(tmp_path, [f"{server.base}/drip.jpg", f"{server.base}/slow-head.jpg"])
    start = time.monotonic()
    result = run_cli("build", source, "--out", tmp_path / "out", "-f", "epub", "--allow-remote",
                     "--allow-remote-hosts", "127.0.0.1", "--remote-timeout", "2", timeout=60)
    elapsed = time.monotonic() - start
    assert result.returncode == 0, result.stderr
    assert sorted(server.requests) == ["/drip.jpg", "/slow-head.jpg"]  # both served, each for a minute
    assert result.stderr.count("took longer than the limit of 2 s") == 2, result.stderr
    assert elapsed < 15, elapsed


def test_bad_host_names_are_usage_errors(tmp_path):
    write(tmp_path / "ed/a.md", "---\ntitle: T\n---\n\nText.\n")
    for bad in ("*", "*.", "a b", "pictures.*.example.org"):
        result = run_cli("inspect", tmp_path / "ed", "--allow-remote", "--allow-remote-hosts", bad)
        assert result.returncode == 2 and "--allow-remote-hosts" in result.stderr, (bad, result.stderr)


def test_the_connection_goes_to_the_address_checked(server, monkeypatch):
    """The name is resolved once, by the door; the socket goes to that address; Host and TLS use the name."""
    from broadsheet.ingest import remote

    calls = []
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        calls.append(host)
        if host == "pictures.example":
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(remote.socket, "getaddrinfo", resolve)
    url = f"http://pictures.example:{server.port}/pic.jpg"
    with pytest.raises(remote.RemoteError, match="pictures.example resolves to 127.0.0.1, a loopback address"):
        remote.fetch_picture(url)
    assert server.accepted == 0
    path = remote.fetch_picture(url, (remote.host_pattern("*.example"),))
    assert path.read_bytes() == server.picture
    assert calls == ["pictures.example", "pictures.example"]
    assert server.hosts == [f"pictures.example:{server.port}"]


@pytest.mark.parametrize("address, reason", [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback in IPv4-mapped"),
    ("::127.0.0.1", "loopback in IPv4-compatible"), ("2002:7f00:1::", "loopback in 6to4"),
    ("64:ff9b::a00:1", "private in NAT64"), ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback in Teredo"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("10.1.2.3", "private"), ("172.16.0.1", "private"),
    ("192.168.1.1", "private"), ("fd00::1", "private"), ("169.254.169.254", "link-local"),
    ("fe80::1%eth0", "link-local"), ("fec0::1", "site-local"), ("100.64.0.1", "shared"),
    ("224.0.0.251", "multicast"), ("ff02::1", "multicast"), ("240.0.0.1", "reserved"),
    ("192.0.2.1", ""), ("198.18.0.1", ""), ("2001:db8::1", ""),
    ("8.8.8.8", None), ("2606:4700:4700::1111", None), ("2002:808:808::1", None),
])
def test_refusal_names_each_kind_of_internal_address(address, reason):
    from broadsheet.ingest.remote import refusal

    found = refusal(address)
    if reason is None:
        assert found is None
    else:
        assert found is not None and all(word in found for word in reason.split()), found


@pytest.mark.parametrize("spelling", ["127.1", "0x7f000001", "2130706433", "017700000001", "0x7f.1",
                                      "127.000.000.001", "127.0.0.1.", "[::ffff:127.0.0.1]", "１２７.０.０.１"])
def test_every_spelling_of_an_address_is_one_host(spelling):
    from broadsheet.ingest.remote import canonical_host

    assert canonical_host(spelling) in ("127.0.0.1", "::ffff:7f00:1")


def test_no_proxy_from_the_environment(tmp_path, server):
    proxy = PictureServer()
    try:
        source = page(tmp_path, [f"{server.base}/pic.jpg"])
        env = {name: proxy.base for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy")}
        env.update(no_proxy="", NO_PROXY="")
        result = run_cli("build", source, "--out", tmp_path / "out", "-f", "epub", "--allow-remote",
                         "--allow-remote-hosts", "127.0.0.1", env=env)
        assert result.returncode == 0, result.stderr
        assert proxy.accepted == 0 and server.requests == ["/pic.jpg"]
    finally:
        proxy.close()


@pytest.fixture
def tls_server(tmp_path):
    """An HTTPS server whose certificate (self-signed, trusted through SSL_CERT_FILE) names localhost only."""
    import shutil
    import ssl
    import subprocess

    if not shutil.which("openssl"):
        pytest.skip("no openssl to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    picture_server = PictureServer(tls=context)
    yield picture_server, cert
    picture_server.close()


def test_tls_checks_the_certificate_against_the_host_name(tmp_path, tls_server):
    server, cert = tls_server
    urls = [f"https://localhost:{server.port}/pic.jpg", f"https://127.0.0.1:{server.port}/pic.jpg"]
    out = tmp_path / "out"
    result = run_cli("build", page(tmp_path, urls), "--out", out, "-f", "epub", "--allow-remote",
                     "--allow-remote-hosts", "localhost,127.0.0.1", env={"SSL_CERT_FILE": str(cert)})
    assert result.returncode == 0, result.stderr
    assert server.requests == ["/pic.jpg"]  # by name, verified; by address, the certificate does not match
    assert server.hosts == [f"localhost:{server.port}"]
    assert "certificate verify failed" in result.stderr and "127.0.0.1" in result.stderr
    assert len(pictures(out)) == 1
    untrusted = run_cli("build", page(tmp_path / "2", urls[:1]), "--out", tmp_path / "out2", "-f", "epub",
                        "--allow-remote", "--allow-remote-hosts", "localhost")
    assert untrusted.returncode == 0 and "certificate verify failed" in untrusted.stderr, untrusted.stderr
    assert server.requests == ["/pic.jpg"]


def test_all_downloads_of_a_build_share_one_budget(server, monkeypatch):
    import dataclasses

    from broadsheet import limits
    from broadsheet.ingest import remote

    monkeypatch.setattr(remote, "_spent", 0.0)
    monkeypatch.setattr(remote, "_fetched", {})
    monkeypatch.setattr(limits, "_CURRENT", dataclasses.replace(limits.current(), remote_seconds=1,
                                                                 remote_total_seconds=1.5))
    hosts = (remote.host_pattern("127.0.0.1"),)
    start = time.monotonic()
    messages = []
    for n in range(4):
        with pytest.raises(remote.RemoteError) as failure:
            remote.fetch_picture(f"{server.base}/drip.jpg?{n}", hosts)
        messages.append(str(failure.value))
    assert time.monotonic() - start < 2.5
    assert messages[0] == "took longer than the limit of 1 s"
    assert messages[1] == "took longer than the limit of 0.5 s" or messages[1].startswith("took longer than the limit of 0.4")
    assert messages[2:] == ["not fetched: downloads took the limit of 1.5 s for one build"] * 2
    assert server.requests == ["/drip.jpg?0", "/drip.jpg?1"]


def test_a_slow_tls_handshake_is_cut_at_the_deadline(monkeypatch):
    """A server that answers the TLS hello one byte a second is cut at the deadline too."""
    import dataclasses
    import threading

    from broadsheet import limits
    from broadsheet.ingest import remote

    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip():
        connection, _ = listener.accept()
        with connection:
            connection.recv(4096)
            for byte in b"\x16\x03\x03\x40\x00" + bytes(60):  # a 16 kB handshake record, dripped
                if stop.wait(1):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    monkeypatch.setattr(remote, "_fetched", {})
    monkeypatch.setattr(limits, "_CURRENT", dataclasses.replace(limits.current(), remote_seconds=2))
    start = time.monotonic()
    try:
        with pytest.raises(remote.RemoteError, match="took longer than the limit of 2 s"):
            remote.fetch_picture(f"https://127.0.0.1:{listener.getsockname()[1]}/a.jpg", ("127.0.0.1",))
        assert time.monotonic() - start < 3
    finally:
        stop.set()
        listener.close()


def test_non_ascii_paths_are_sent_escaped(server, monkeypatch):
    from broadsheet.ingest import remote

    monkeypatch.setattr(remote, "_fetched", {})
    with pytest.raises(remote.RemoteError, match="the server answered 404"):
        remote.fetch_picture(f"{server.base}/图片.jpg?q=版", ("127.0.0.1",))
    assert server.requests == ["/%E5%9B%BE%E7%89%87.jpg?q=%E7%89%88"]
