"""broadsheet send and digest --send against a real SMTP server on 127.0.0.1 (aiosmtpd): TLS and login,
the attachment byte for byte, retries, refusals, the ledger across killed and concurrent runs, dry runs."""

from __future__ import annotations

import json
import re
import os
import signal
import sqlite3
import subprocess
import sys
import zipfile
from email import message_from_bytes, policy
from email.utils import collapse_rfc2231_value
from email.message import Message
from pathlib import Path

import pytest

from conftest import FIXED_EPOCH, run_cli
from smtpserver import PASSWORD, USER, Handler, Server

LEDGER = ".broadsheet-deliveries.sqlite"
SENDER = "Harbour Desk <desk@example.org>"


def make_epub(path: Path, title: str, date: str, collection: str | None = None, padding: int = 0) -> Path:
    """A small EPUB with the package metadata a subject is read from (and ``padding`` bytes of filler)."""
    meta = f'<meta property="belongs-to-collection" id="c">{collection}</meta>' if collection else ""
    opf = (f'<?xml version="1.0" encoding="utf-8"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
           f'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
           f'<dc:identifier id="id">x</dc:identifier><dc:title>{title}</dc:title><dc:date>{date}</dc:date>{meta}'
           f'</metadata><manifest/><spine/></package>')
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        archive.writestr("META-INF/container.xml", '<?xml version="1.0"?><container version="1.0" '
                         'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile '
                         'full-path="EPUB/content.opf" media-type="application/oebps-package+xml"/></rootfiles>'
                         '</container>')
        archive.writestr("EPUB/content.opf", opf)
        if padding:
            archive.writestr(zipfile.ZipInfo("EPUB/filler.bin"), os.urandom(padding))
    return path


def make_pdf(path: Path, title: str) -> Path:
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Title"] = title
    pdf.save(path)
    return path


@pytest.fixture
def editions(tmp_path):
    out = tmp_path / "build"
    out.mkdir()
    epub = make_epub(out / "harbour-gazette-2026-11-20.epub", "The Harbour Gazette 2026-11-20", "2026-11-20",
                     "The Harbour Gazette")
    pdf = make_pdf(out / "harbour-gazette-2026-11-20.pdf", "The Harbour Gazette 2026-11-20")
    return out, epub, pdf


def send(*args, env=None, **kwargs):
    environment = {"BROADSHEET_SMTP_PASSWORD": PASSWORD, **(env or {})}
    return run_cli("send", *args, env=environment, timeout=120, **kwargs)


def attachment(message: Message):
    parts = list(message.iter_attachments())
    assert len(parts) == 1
    return parts[0]


def ledger_rows(folder: Path) -> list[tuple]:
    with sqlite3.connect(folder / LEDGER) as db:
        return db.execute("SELECT recipient, status, attempts, last_error FROM deliveries ORDER BY recipient").fetchall()


def fast_config(folder: Path, **extra) -> Path:
    lines = ["[delivery]", 'from = "Harbour Desk <desk@example.org>"', "backoff = 0.05", "attempts = 3"]
    lines += [f"{key} = {_toml(value)}" for key, value in extra.items()]
    path = folder / "broadsheet.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def test_starttls_login_and_the_attachment_arrives_byte_for_byte(tmp_path, editions):
    out, epub, pdf = editions
    config = fast_config(tmp_path, cafile="smtp-cert.pem")
    with Server(tmp_path, "starttls") as server:
        result = send(epub, pdf, "--to", "reader@kindle.com", "--smtp", server.url, "--config", config)
        assert result.returncode == 0, result.stderr
        assert "2 sent, 0 skipped as already sent, 0 failed" in result.stderr
        messages = server.handler.messages()
    assert [ok for _, ok in server.handler.logins] == [True]
    assert len(messages) == 2
    for (rcpts, message), path, media in zip(messages, (epub, pdf), ("application/epub+zip", "application/pdf")):
        assert rcpts == ("reader@kindle.com",)
        assert message["Subject"] == "The Harbour Gazette, 2026-11-20"
        assert message["From"] == SENDER and message["To"] == "reader@kindle.com"
        assert message["Message-ID"].endswith(".broadsheet@example.org>")
        assert "attached" in message.get_body(("plain",)).get_content()
        part = attachment(message)
        assert part.get_content_type() == media
        assert part.get_filename() == path.name
        assert part.get_content() == path.read_bytes()
    assert PASSWORD not in result.stdout + result.stderr
    assert [row[1] for row in ledger_rows(out)] == ["sent", "sent"]
    assert PASSWORD.encode() not in (out / LEDGER).read_bytes()


def test_implicit_tls_and_a_rerun_sends_nothing_again(tmp_path, editions):
    out, epub, _ = editions
    fast_config(tmp_path)
    with Server(tmp_path, "tls") as server:
        args = (epub, "--to", "a@example.org,b@example.org", "--smtp", server.url, "--smtp-cafile",
                tmp_path / "smtp-cert.pem", "--from", SENDER)
        first = send(*args, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        again = send(*args, cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert "0 sent, 2 skipped as already sent, 0 failed" in again.stderr
        assert len(server.handler.received) == 2


def test_an_unverifiable_certificate_stops_the_run_in_one_line(tmp_path, editions):
    out, epub, _ = editions
    with Server(tmp_path, "starttls") as server:
        result = send(epub, "--to", "a@example.org", "--smtp", server.url, "--from", SENDER)
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "certificate cannot be verified" in lines[0], result.stderr
        assert "--smtp-cafile" in lines[0] and not server.handler.received
    assert [row[1] for row in ledger_rows(out)] == ["pending"]


def test_a_wrong_password_is_refused_and_never_shown(tmp_path, editions):
    out, epub, _ = editions
    config = fast_config(tmp_path, cafile="smtp-cert.pem")
    with Server(tmp_path, "starttls") as server:
        result = send(epub, "--to", "a@example.org", "--smtp", server.url, "--config", config,
                      env={"BROADSHEET_SMTP_PASSWORD": "wrong-Passw0rd-xyz"})
    assert result.returncode == 1 and "login as desk@example.org refused" in result.stderr
    assert "wrong-Passw0rd-xyz" not in result.stdout + result.stderr
    missing = run_cli("send", epub, "--to", "a@example.org", "--smtp", server.url, "--config", config,
                      env={"BROADSHEET_SMTP_PASSWORD": ""})
    assert missing.returncode == 1 and "set BROADSHEET_SMTP_PASSWORD" in missing.stderr


def test_a_451_is_tried_again_and_delivered(tmp_path, editions):
    out, epub, _ = editions
    config = fast_config(tmp_path, cafile="smtp-cert.pem")
    with Server(tmp_path, "starttls", Handler(temporary=1)) as server:
        result = send(epub, "--to", "reader@example.org", "--smtp", server.url, "--config", config)
        assert result.returncode == 0, result.stderr
        assert len(server.handler.received) == 1
    assert ledger_rows(out) == [("reader@example.org", "sent", 2, None)]


def test_temporary_failures_past_the_last_try_fail_the_run(tmp_path, editions):
    out, epub, _ = editions
    config = fast_config(tmp_path, cafile="smtp-cert.pem")
    with Server(tmp_path, "starttls", Handler(temporary=10)) as server:
        result = send(epub, "--to", "reader@example.org", "--smtp", server.url, "--config", config)
    assert result.returncode == 1
    assert "broadsheet: failed: reader@example.org: " in result.stderr and "after 3 tries" in result.stderr
    assert ledger_rows(out)[0][1:3] == ("failed", 3)


def test_a_refused_recipient_is_recorded_and_the_others_are_delivered(tmp_path, editions):
    out, epub, _ = editions
    config = fast_config(tmp_path, cafile="smtp-cert.pem")
    handler = Handler(refuse={"gone@example.org"})
    with Server(tmp_path, "starttls", handler) as server:
        result = send(epub, "--to", "a@example.org", "--to", "gone@example.org", "--to", "c@example.org",
                      "--smtp", server.url, "--config", config)
    assert result.returncode == 1
    failures = [line for line in result.stderr.splitlines() if line.startswith("broadsheet: failed:")]
    assert failures == [f"broadsheet: failed: gone@example.org: {epub}: RCPT TO: 550 5.1.1 mailbox unavailable"]
    assert "2 sent, 0 skipped as already sent, 1 failed" in result.stderr
    assert sorted(r for r, _ in server.handler.messages()) == [("a@example.org",), ("c@example.org",)]
    assert [row[:2] for row in ledger_rows(out)] == [("a@example.org", "sent"), ("c@example.org", "sent"),
                                                     ("gone@example.org", "failed")]
    report = run_cli("send", "--report", out, "--json")
    assert report.returncode == 0, report.stderr
    rows = json.loads(report.stdout)
    assert {row["recipient"]: row["status"] for row in rows} == {
        "a@example.org": "sent", "c@example.org": "sent", "gone@example.org": "failed"}
    table = run_cli("send", "--report", out)
    assert table.returncode == 0 and "gone@example.org" in table.stdout and "2 sent, 1 failed" in table.stdout


def _recipients(count: int) -> list[str]:
    return [f"reader{n:02}@example.org" for n in range(count)]


def _received_by(handler: Handler) -> list[str]:
    return sorted(rcpt for _, rcpts, _ in handler.received for rcpt in rcpts)


@pytest.mark.parametrize("stage, stop", [("DATA", signal.SIGKILL), ("MAIL", signal.SIGKILL), ("DATA", signal.SIGTERM)])
def test_a_run_killed_half_way_and_run_again_delivers_every_message_exactly_once(tmp_path, editions, stage, stop):
    """Stopped while the server holds the fourth message's data (not accepted: no 250 came), or between
    the third message's 250 and the fourth's MAIL FROM; by SIGKILL, or by SIGTERM (one line)."""
    out, epub, _ = editions
    config = fast_config(tmp_path, cafile="smtp-cert.pem")
    people = _recipients(6)
    handler = Handler(block_after=3, block_at=stage)
    with Server(tmp_path, "starttls", handler) as server:
        args = [sys.executable, "-m", "broadsheet", "send", str(epub), "--to", ",".join(people),
                "--smtp", server.url, "--config", str(config), "-q"]
        env = {**os.environ, "BROADSHEET_SMTP_PASSWORD": PASSWORD, "SOURCE_DATE_EPOCH": FIXED_EPOCH}
        run = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert handler.blocked.wait(60), run.communicate(timeout=5)
        run.send_signal(stop)
        _, stderr = run.communicate(timeout=30)
        assert len(handler.received) == 3
        statuses = [row[1] for row in ledger_rows(out)]
        assert statuses.count("sent") == 3 and statuses.count("sending") == 1
        if stop == signal.SIGTERM:
            assert run.returncode == 1 and stderr.decode().strip().splitlines() == [
                "broadsheet: error: stopped by SIGTERM; what was sent is recorded, a rerun sends the rest"]
            # the message whose data the server held stays claimed by the stopped run: a rerun takes it over
        handler.block_after = None
        handler.release.set()
        again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
    assert _received_by(handler) == people  # each once
    assert [row[1] for row in ledger_rows(out)] == ["sent"] * 6


def test_two_runs_at_once_deliver_each_message_once(tmp_path, editions):
    out, epub, pdf = editions
    config = fast_config(tmp_path, cafile="smtp-cert.pem")
    people = _recipients(8)
    handler = Handler(delay=0.1)
    with Server(tmp_path, "starttls", handler) as server:
        args = [sys.executable, "-m", "broadsheet", "send", str(epub), str(pdf), "--to", ",".join(people),
                "--smtp", server.url, "--config", str(config)]
        env = {**os.environ, "BROADSHEET_SMTP_PASSWORD": PASSWORD, "SOURCE_DATE_EPOCH": FIXED_EPOCH}
        runs = [subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
        results = [run.communicate(timeout=120) for run in runs]
        assert [run.returncode for run in runs] == [0, 0], results
    sent = [int(re.search(r"(\d+) sent", stderr).group(1)) for _, stderr in results]
    assert sum(sent) == 16, results
    assert sorted(_received_by(handler)) == sorted(people * 2)  # each recipient: the EPUB and the PDF, once each
    assert len({(rcpts, data) for _, rcpts, data in handler.received}) == 16
    assert [row[1] for row in ledger_rows(out)] == ["sent"] * 16


def test_dry_run_writes_parseable_messages_and_sends_nothing(tmp_path, editions):
    out, epub, pdf = editions
    zh = make_epub(out / "zzrb-2012-07-06.epub", "郑州日报 2012-07-06", "2012-07-06", "郑州日报")
    csv = tmp_path / "subscribers.csv"
    csv.write_text("id,email,formats\nann,ann@kindle.com,epub\nbo,bo@example.org;bo@kindle.com,\n", encoding="utf-8")
    result = run_cli("send", epub, pdf, zh, "--subscribers", csv, "--from", SENDER, "--dry-run")
    assert result.returncode == 0, result.stderr
    written = sorted((out / "outbox").glob("*.eml"))
    assert sorted(result.stdout.split()) == [str(p) for p in written]
    assert len(written) == 2 + 3 + 3
    assert not (out / LEDGER).exists() or all(row[1] != "sent" for row in ledger_rows(out))
    for path in written:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        part = attachment(message)
        name = part.get_filename()
        assert (out / name).read_bytes() == part.get_content()
        assert message["To"].addresses[0].addr_spec in path.name
    chinese = next(p for p in written if p.name.startswith("ann") and "zzrb" in p.name)
    message = message_from_bytes(chinese.read_bytes(), policy=policy.default)
    assert message["Subject"] == "郑州日报, 2012-07-06"
    raw = chinese.read_bytes().decode("ascii")
    assert 'filename="zzrb-2012-07-06.epub"' in raw and "filename*=utf-8''%E9%83%91" in raw
    legacy = message_from_bytes(chinese.read_bytes())  # compat32: every parameter, the RFC 2231 one too
    part = next(p for p in legacy.walk() if p.get_content_disposition() == "attachment")
    names = [collapse_rfc2231_value(v) for k, v in part.get_params(header="content-disposition") if k == "filename"]
    assert names == ["zzrb-2012-07-06.epub", "郑州日报 2012-07-06.epub"]
    again = run_cli("send", epub, pdf, zh, "--subscribers", csv, "--from", SENDER, "--dry-run")
    assert sorted(p.read_bytes() for p in written) == sorted(p.read_bytes() for p in (out / "outbox").glob("*.eml"))
    assert again.returncode == 0


def test_an_edition_over_the_kindle_limit_is_linked_or_undeliverable(tmp_path, editions):
    out, epub, _ = editions
    big = make_epub(out / "big.epub", "Big 2026-11-20", "2026-11-20", padding=300_000)
    config = fast_config(tmp_path, cafile="smtp-cert.pem", domain_max_size={"kindle.com": "200KB"})
    with Server(tmp_path, "starttls") as server:
        result = send(big, epub, "--to", "me@kindle.com", "--smtp", server.url, "--config", config)
        assert result.returncode == 1
        assert f"broadsheet: failed: me@kindle.com: {big}: " in result.stderr and "over this address's limit" \
            in result.stderr
        assert len(server.handler.received) == 1  # the small one
        linked = send(big, "--to", "me@kindle.com", "--smtp", server.url, "--config", config,
                      "--base-url", "https://news.example.org/editions/")
        assert linked.returncode == 0, linked.stderr
        _, message = server.handler.messages()[-1]
    assert not list(message.iter_attachments())
    assert "https://news.example.org/editions/big.epub" in message.get_body(("plain",)).get_content()
    assert sorted(row[1] for row in ledger_rows(out)) == ["sent", "sent"]


@pytest.mark.parametrize("args, words", [
    (["--to", "not-an-address"], "expected an e-mail address"),
    (["--to", "a@example.org\r\nBcc: x@example.org"], "expected an e-mail address"),
    (["--subscribers", "{csv_no_email}"], "no 'email' column"),
    (["--subscribers", "{csv_bad}"], ":3: email: expected an e-mail address"),
    (["--subscribers", "{csv_blank}"], ":2: email: no address"),
    (["{not_an_edition}", "--to", "a@example.org"], "not an EPUB or a PDF"),
])
def test_a_bad_address_or_csv_is_one_line_and_status_1(tmp_path, editions, args, words):
    out, epub, _ = editions
    (tmp_path / "no-email.csv").write_text("id,formats\nann,epub\n", encoding="utf-8")
    (tmp_path / "bad.csv").write_text("id,email\nann,ann@example.org\nbo,bo-at-example\n", encoding="utf-8")
    (tmp_path / "blank.csv").write_text("email,formats\n,epub\n", encoding="utf-8")
    (tmp_path / "notes.epub").write_text("not a book", encoding="utf-8")
    args = [a.format(csv_no_email=tmp_path / "no-email.csv", csv_bad=tmp_path / "bad.csv",
                     csv_blank=tmp_path / "blank.csv", not_an_edition=tmp_path / "notes.epub") for a in args]
    result = run_cli("send", epub, *args, "--from", SENDER, "--dry-run")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in result.stderr, result.stderr


def test_a_password_in_the_url_or_a_file_is_refused_without_repeating_it(tmp_path, editions):
    out, epub, _ = editions
    result = run_cli("send", epub, "--to", "a@example.org", "--from", SENDER,
                     "--smtp", "smtp+starttls://desk:hunter2-XYZ@127.0.0.1:587")
    assert result.returncode == 2 and "password" in result.stderr and "hunter2-XYZ" not in result.stderr
    config = tmp_path / "broadsheet.toml"
    config.write_text('[delivery]\npassword = "hunter2-XYZ"\n', encoding="utf-8")
    result = run_cli("send", epub, "--to", "a@example.org", "--from", SENDER, "--config", config, "--dry-run")
    assert result.returncode == 1 and "delivery: a password is never read from a file" in result.stderr
    assert "hunter2-XYZ" not in result.stderr
    plain = run_cli("send", epub, "--to", "a@example.org", "--from", SENDER, "--smtp", "smtp://desk@127.0.0.1:25")
    assert plain.returncode == 2 and "without TLS is refused" in plain.stderr


def test_plain_smtp_without_login_and_a_rate_limit(tmp_path, editions):
    out, epub, _ = editions
    with Server(tmp_path, "plain") as server:
        result = run_cli("send", epub, "--to", "a@example.org,b@example.org,c@example.org,d@example.org",
                         "--from", SENDER, "--smtp", server.url, "--rate", "5/s")
        assert result.returncode == 0, result.stderr
        assert len(server.handler.received) == 4
        times = server.handler.times  # from the second message on (the first one also connected): 0.2 s apart
        assert times[3] - times[1] >= 0.35, times


def test_digest_send_builds_and_mails_each_subscriber_their_own_digest(tmp_path):
    from archive import make_archive

    archive = make_archive(tmp_path / "archive")
    (tmp_path / "subscribers.csv").write_text(
        "id,sections,email\nann,理论,ann@kindle.com\nbo,要闻;文化,bo@example.org;bo@kindle.com\n"
        "dan,体育,dan@example.org\n", encoding="utf-8")
    recipe = tmp_path / "weekly.toml"
    recipe.write_text(f'''title = "周刊"
sources = ["{archive}"]
formats = ["epub"]
out = "weekly"

[delivery]
from = "Desk <desk@example.org>"
cafile = "smtp-cert.pem"
backoff = 0.05
''', encoding="utf-8")
    with Server(tmp_path, "starttls") as server:
        args = ("digest", "--recipe", recipe, "--subscribers", tmp_path / "subscribers.csv", "--send",
                "--smtp", server.url)
        result = run_cli(*args, env={"BROADSHEET_SMTP_PASSWORD": PASSWORD})
        assert result.returncode == 0, result.stderr
        assert "3 sent, 0 skipped as already sent, 0 failed" in result.stderr
        assert "dan: no article matches" in result.stderr
        again = run_cli(*args, env={"BROADSHEET_SMTP_PASSWORD": PASSWORD})
        assert again.returncode == 0 and "0 sent, 3 skipped as already sent" in again.stderr, again.stderr
        messages = server.handler.messages()
    out = tmp_path / "weekly"
    got = {rcpts[0]: attachment(message) for rcpts, message in messages}
    assert sorted(got) == ["ann@kindle.com", "bo@example.org", "bo@kindle.com"]
    assert got["ann@kindle.com"].get_content() == next(out.glob("*-ann.epub")).read_bytes()
    assert got["bo@kindle.com"].get_content() == next(out.glob("*-bo.epub")).read_bytes()
    assert [row[1] for row in ledger_rows(out)] == ["sent"] * 3
    dry = run_cli("digest", "--recipe", recipe, "--subscribers", tmp_path / "subscribers.csv", "--send", "--dry-run")
    assert dry.returncode == 0 and "0 messages written (dry run), 3 skipped as already sent" in dry.stderr, dry.stderr
    nosend = run_cli("digest", "--recipe", recipe, "--send")
    assert nosend.returncode == 2 and "--send needs --subscribers" in nosend.stderr


def test_the_ledger_reclaims_a_lease_only_when_it_expired_or_its_process_is_gone(tmp_path):
    from broadsheet.deliver.ledger import Ledger

    path = tmp_path / LEDGER
    mine = Ledger(path, lease=60)
    assert mine.claim("a@example.org", "f" * 64, "x.epub", 1) == "claimed"
    other = Ledger(path, lease=60)
    other.pid = mine.pid + 1_000_000  # another run
    assert other.claim("a@example.org", "f" * 64, "x.epub", 1) == "busy"  # a live claimer, an unexpired lease
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with sqlite3.connect(path) as db:  # the claimer was killed: its process no longer exists
        db.execute("UPDATE deliveries SET lease_pid = ?", (gone.pid,))
    assert other.claim("a@example.org", "f" * 64, "x.epub", 1) == "claimed"
    assert not mine.attempt("a@example.org", "f" * 64, "<1@x>")  # the first run lost the message: it must not send it
    assert other.attempt("a@example.org", "f" * 64, "<1@x>")
    with sqlite3.connect(path) as db:  # a claimer on another host whose lease ran out
        db.execute("UPDATE deliveries SET lease_host = 'elsewhere', lease_until = 0")
    assert mine.claim("a@example.org", "f" * 64, "x.epub", 1) == "claimed"
    mine.sent("a@example.org", "f" * 64, "<id@example.org>")
    assert other.claim("a@example.org", "f" * 64, "x.epub", 1) == "sent"
    mine.close()
    other.close()


def test_a_long_title_in_another_script_is_split_into_rfc_2231_pieces_and_lines_stay_short(tmp_path):
    from broadsheet.deliver.message import make_message, read_edition, to_bytes

    title = "河洛日报理论周刊特别版本之非常长的标题用于测试续行"
    path = make_epub(tmp_path / "hlrbwz-2024-05-01-to-2024-05-07.epub", f"{title} 2024-05-01 – 2024-05-07",
                     "2024-05-01")
    edition = read_edition(path)
    assert edition.title == f"{title}, 2024-05-01 – 2024-05-07"
    data = to_bytes(make_message(edition, "reader@kindle.com", "desk@example.org"))
    assert max(len(line) for line in data.split(b"\r\n")) <= 78
    part = next(p for p in message_from_bytes(data).walk() if p.get_content_disposition() == "attachment")
    names = [collapse_rfc2231_value(v) for k, v in part.get_params(header="content-disposition") if k == "filename"]
    assert names == [path.name, f"{title} 2024-05-01 – 2024-05-07.epub"]
    assert b"filename*3*=" in data
    again = to_bytes(make_message(edition, "reader@kindle.com", "desk@example.org"))
    other = to_bytes(make_message(edition, "other@kindle.com", "desk@example.org"))
    message = message_from_bytes(data, policy=policy.default)
    assert message_from_bytes(again, policy=policy.default)["Message-ID"] == message["Message-ID"]
    assert message_from_bytes(other, policy=policy.default)["Message-ID"] != message["Message-ID"]


def test_the_delivery_table_is_checked_where_broadsheet_toml_is_read(tmp_path):
    from broadsheet.config import load_config
    from broadsheet.errors import ConfigError

    path = tmp_path / "broadsheet.toml"
    path.write_text('[delivery]\nsmtp = "smtps://desk@mail.example.org"\nfrom = "desk@example.org"\n'
                    'rate = "30/min"\n', encoding="utf-8")
    delivery = load_config(path).delivery
    assert (delivery.smtp, delivery.sender, delivery.rate) == ("smtps://desk@mail.example.org", "desk@example.org",
                                                               "30/min")
    for text, words in (('[delivery]\nrate = "fast"\n', "delivery.rate: expected a rate such as 30/min"),
                        ('[delivery]\nsmtp = "http://x"\n', "delivery.smtp: expected a URL starting"),
                        ('[delivery]\nfrom = "nobody"\n', "delivery.from: expected an e-mail address"),
                        ('[delivery]\ncolour = "red"\n', "delivery.colour: unknown key")):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=re.escape(words)):
            load_config(path)
