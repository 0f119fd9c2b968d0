"""A delivery run: every (recipient, edition) once, through the ledger, at the rate asked.

Messages already ``sent`` in the ledger are skipped; the others are claimed one at a time,
sent, and recorded the moment the server accepts them (see ``ledger``).  A temporary failure
puts the message back in the queue after ``backoff`` seconds, doubled after each try, up to
``attempts`` tries, while the rest go on; a permanent one is recorded and the rest go on.
A fatal fault (TLS, login) stops the run and gives back what it had claimed.
``dry_run`` writes each message as an ``.eml`` file instead and leaves the ledger as it is.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from ..config import PASSWORD_ENV, DeliveryConfig
from ..paper import parse_size
from .address import SmtpServer, check_address, check_sender, parse_rate, parse_smtp_url
from .ledger import LEDGER_NAME, Ledger
from .message import DeliveryError, Edition, ascii_name, envelope, make_message, size_limit, to_bytes
from .smtp import Fatal, Mailer, Permanent, Temporary

OUTBOX = "outbox"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    recipient: str
    edition: Edition


@dataclass(frozen=True)
class Settings:
    sender: str
    server: SmtpServer | None = None
    password: str | None = field(default=None, repr=False)
    cafile: Path | None = None
    base_url: str | None = None
    max_size: int = 25 * 1024**2
    domain_sizes: dict[str, int] = field(default_factory=dict)
    interval: float = 0.0  # seconds between two messages (--rate)
    attempts: int = 5
    backoff: float = 30.0
    timeout: float = 60.0
    lease: float = 900.0


def settings(config: DeliveryConfig, base: Path, *, smtp: str | None = None, sender: str | None = None,
             cafile: Path | None = None, base_url: str | None = None, rate: str | None = None,
             dry_run: bool = False, where: str = "[delivery]") -> Settings:
    """The run's settings: the command line's over ``config`` ([delivery], its paths relative to
    ``base``); the password from the environment.  Faults name the option or key to set."""
    url = smtp or config.smtp
    server = parse_smtp_url(url) if url else None
    from_address = sender or config.sender
    if not from_address:
        raise DeliveryError(f"no sender: give --from ADDR, or from = \"…\" in {where}")
    if server is None and not dry_run:
        raise DeliveryError(f"no SMTP server: give --smtp URL (smtp+starttls://user@host:587), or smtp = \"…\" "
                            f"in {where}; or --dry-run to write the messages as files")
    password = os.environ.get(PASSWORD_ENV) or None
    if server is not None and server.user and password is None and not dry_run:
        raise DeliveryError(f"no password for {server.user}: set {PASSWORD_ENV} in the environment")
    ca = cafile or (base / config.cafile if config.cafile else None)
    if ca is not None and not ca.is_file():
        raise DeliveryError("no such CA certificate file", ca)
    return Settings(
        sender=check_sender(from_address), server=server, password=password, cafile=ca,
        base_url=(base_url or config.base_url or "").rstrip("/") or None, max_size=parse_size(config.max_size),
        domain_sizes={domain: parse_size(size) for domain, size in config.domain_max_size.items()},
        interval=parse_rate(rate or config.rate) if (rate or config.rate) else 0.0,
        attempts=config.attempts, backoff=config.backoff, timeout=config.timeout, lease=config.lease)


@dataclass
class Outcome:
    sent: list[Job] = field(default_factory=list)
    linked: list[Job] = field(default_factory=list)  # sent as a link: too large to attach
    already: int = 0  # skipped: sent by an earlier run
    busy: int = 0  # skipped: another run holds it now
    failed: list[tuple[Job, str]] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)  # --dry-run's .eml files
    dry_run: bool = False

    def summary(self) -> str:
        if self.dry_run:
            return f"{len(self.written)} message{'s' if len(self.written) != 1 else ''} written (dry run), " \
                   f"{self.already} skipped as already sent, {len(self.failed)} failed"
        linked = f" ({len(self.linked)} as a link)" if self.linked else ""
        busy = f", {self.busy} being sent by another run" if self.busy else ""
        return f"{len(self.sent)} sent{linked}, {self.already} skipped as already sent{busy}, {len(self.failed)} failed"


def jobs_for(recipients: list[str], editions: list[Edition]) -> list[Job]:
    """Every edition to every recipient, each pair once, in the order given."""
    seen, jobs = set(), []
    for recipient in recipients:
        for edition in editions:
            if (recipient, edition.sha256) not in seen:
                seen.add((recipient, edition.sha256))
                jobs.append(Job(recipient, edition))
    return jobs


def recipients(values) -> list[str]:
    """Addresses from the command line (each may list several, split by commas)."""
    found = []
    for value in values:
        for part in value.split(","):
            try:
                found.append(check_address(part))
            except ValueError as exc:
                raise DeliveryError(f"--to: {exc}") from None
    return list(dict.fromkeys(found))


class _Entry:
    __slots__ = ("job", "tries", "not_before", "claimed")

    def __init__(self, job: Job) -> None:
        self.job, self.tries, self.not_before, self.claimed = job, 0, 0.0, False


Progress = Callable[[int, int], None]


def deliver(jobs: list[Job], setup: Settings, folder: Path, *, dry_run: bool = False,
            progress: Progress | None = None, sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """Deliver ``jobs``; the ledger (and with ``dry_run`` the outbox) is in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    if dry_run:
        return _dry_run(jobs, setup, folder, progress)
    outcome = Outcome()
    ledger = Ledger(folder / LEDGER_NAME, lease=setup.lease)
    mailer = Mailer(setup.server, setup.password, cafile=setup.cafile, timeout=setup.timeout)
    queue = deque(_Entry(job) for job in jobs)
    done, last_sent = 0, None
    in_flight: _Entry | None = None  # a message whose data the server may have accepted
    current: _Entry | None = None  # the message being handled (out of the queue)

    def finished() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, len(jobs))

    try:
        while queue:
            entry = min(queue, key=lambda e: e.not_before) if queue[0].not_before > time.monotonic() else queue[0]
            wait = entry.not_before - time.monotonic()
            if wait > 0:
                sleep(wait)
            queue.remove(entry)
            current, job = entry, entry.job
            if not entry.claimed:
                state = ledger.claim(job.recipient, job.edition.sha256, str(job.edition.path), job.edition.size)
                if state != "claimed":
                    outcome.already += state == "sent"
                    outcome.busy += state == "busy"
                    finished()
                    continue
                entry.claimed = True
            link, limit = None, size_limit(job.recipient, setup.max_size, setup.domain_sizes)
            if job.edition.size > limit:
                if setup.base_url is None:
                    error = _too_large(job.edition, limit)
                    ledger.settle(job.recipient, job.edition.sha256, "undeliverable", error)
                    outcome.failed.append((job, error))
                    finished()
                    continue
                link = f"{setup.base_url}/{quote(job.edition.path.name)}"
            message = make_message(job.edition, job.recipient, setup.sender, link=link, limit=limit)
            data = to_bytes(message)
            if setup.interval and last_sent is not None:
                pause = last_sent + setup.interval - time.monotonic()
                if pause > 0:
                    sleep(pause)
            if not ledger.attempt(job.recipient, job.edition.sha256, str(message["Message-ID"])):
                outcome.busy += 1  # our lease ran out and another run took the message
                entry.claimed = False
                finished()
                continue
            entry.tries += 1
            in_flight = entry
            last_sent = time.monotonic()
            try:
                mail_from, rcpt_to = envelope(message)
                mailer.send(mail_from, rcpt_to, data)
            except Temporary as exc:
                in_flight = None
                if entry.tries < setup.attempts:
                    pause = setup.backoff * 2 ** (entry.tries - 1)
                    log.warning("%s: %s: %s; trying again in %s s (try %d of %d)", job.recipient,
                                job.edition.path.name, exc, f"{pause:g}", entry.tries + 1, setup.attempts)
                    entry.not_before = time.monotonic() + pause
                    queue.append(entry)
                    continue
                error = f"{exc} (after {entry.tries} tries)"
                ledger.settle(job.recipient, job.edition.sha256, "failed", error)
                outcome.failed.append((job, error))
                finished()
                continue
            except Permanent as exc:
                in_flight = None
                ledger.settle(job.recipient, job.edition.sha256, "failed", str(exc))
                outcome.failed.append((job, str(exc)))
                finished()
                continue
            except Fatal:
                in_flight = None
                raise
            # the server said 250: recorded before anything else happens
            ledger.sent(job.recipient, job.edition.sha256, str(message["Message-ID"]),
                        "sent as a link: too large to attach" if link else None)
            in_flight = None
            outcome.sent.append(job)
            if link:
                outcome.linked.append(job)
            finished()
    except BaseException:
        mailer.abort()  # no QUIT: the server may be waiting for us, or we for it
        raise
    finally:
        # give back what this run claimed and did not finish; a message whose data may have
        # reached the server (in_flight) stays ``sending`` and is sent again by a later run
        for entry in [*queue, *([current] if current is not None and current not in queue else [])]:
            if entry.claimed and entry is not in_flight:
                ledger.settle(entry.job.recipient, entry.job.edition.sha256, "pending", None)
        mailer.close()
        ledger.close()
    return outcome


def _too_large(edition: Edition, limit: int) -> str:
    from .message import human_size

    return (f"{human_size(edition.size)}, over this address's limit of {human_size(limit)}; "
            "give --base-url to send a link instead")


def _dry_run(jobs: list[Job], setup: Settings, folder: Path, progress: Progress | None) -> Outcome:
    outcome = Outcome(dry_run=True)
    ledger = Ledger.existing(folder / LEDGER_NAME)
    outbox = folder / OUTBOX
    outbox.mkdir(exist_ok=True)
    try:
        for done, job in enumerate(jobs, 1):
            row = ledger.get(job.recipient, job.edition.sha256) if ledger else None
            if row is not None and row.status == "sent":
                outcome.already += 1
            else:
                limit = size_limit(job.recipient, setup.max_size, setup.domain_sizes)
                link = None
                if job.edition.size > limit:
                    if setup.base_url is None:
                        outcome.failed.append((job, _too_large(job.edition, limit)))
                    link = f"{setup.base_url}/{quote(job.edition.path.name)}" if setup.base_url else None
                if job.edition.size <= limit or link:
                    data = to_bytes(make_message(job.edition, job.recipient, setup.sender, link=link, limit=limit))
                    name = re.sub(r"[^A-Za-z0-9._@+-]+", "_", f"{job.recipient}--{ascii_name(job.edition.path)}")
                    path = outbox / f"{name}.eml"
                    part = path.with_name(f".{path.name}.part")
                    part.write_bytes(data)
                    os.replace(part, path)
                    outcome.written.append(path)
            if progress is not None:
                progress(done, len(jobs))
    finally:
        if ledger is not None:
            ledger.close()
    return outcome


def report_rows(folder: Path) -> list[dict]:
    """The ledger of ``folder`` as plain values (``send --report``)."""
    path = folder / LEDGER_NAME
    if not path.is_file():
        raise DeliveryError(f"no delivery ledger here ({LEDGER_NAME}); give the folder the editions were sent "
                            "from, as in send --report build", folder)
    import datetime as dt

    def when(stamp: float | None) -> str | None:
        return None if stamp is None else dt.datetime.fromtimestamp(stamp, dt.timezone.utc).isoformat(timespec="seconds")

    ledger = Ledger(path)
    try:
        return [{"recipient": row.recipient, "file": row.file, "sha256": row.sha256, "size": row.size,
                 "status": row.status, "attempts": row.attempts, "last_error": row.last_error,
                 "message_id": row.message_id, "created": when(row.created), "updated": when(row.updated),
                 "sent": when(row.sent_at)} for row in ledger.rows()]
    finally:
        ledger.close()


def load_delivery(path: Path | None) -> tuple[DeliveryConfig, Path]:
    """[delivery] of ``path`` (broadsheet.toml, or a digest recipe: a file that names ``sources``),
    validated whole; else of ./broadsheet.toml when there is one; else the defaults.  Also the
    folder its paths are relative to."""
    from ..config import BroadsheetConfig, read_toml, validate
    from ..recipe import Recipe

    if path is None:
        path = Path("broadsheet.toml")
        if not path.is_file():
            return DeliveryConfig(), Path.cwd()
    elif not path.is_file():
        raise DeliveryError("no such configuration file", path)
    data = read_toml(path)
    schema = Recipe if isinstance(data, dict) and "sources" in data else BroadsheetConfig
    return validate(schema, data, path).delivery, path.parent


def read_editions(files) -> list[Edition]:
    from .message import read_edition

    return [read_edition(Path(file)) for file in dict.fromkeys(files)]


def subscriber_jobs(people, editions_of: Callable[[object], list[Edition]]) -> list[Job]:
    """A job for each address of each subscriber and each of their editions (``editions_of(person)``)."""
    jobs, seen = [], set()
    for person in people:
        for edition in editions_of(person):
            for address in person.email:
                if (address, edition.sha256) not in seen:
                    seen.add((address, edition.sha256))
                    jobs.append(Job(address, edition))
    return jobs


def of_formats(editions: list[Edition], formats) -> list[Edition]:
    """The editions in ``formats`` (epub, pdf; all when none are named)."""
    if not formats:
        return editions
    return [e for e in editions if ("epub" if e.media_type == "application/epub+zip" else "pdf") in formats]


def failure_lines(outcome: Outcome) -> list[str]:
    return [f"{job.recipient}: {job.edition.path}: {error}" for job, error in outcome.failed]


def print_report(folder: Path, as_json: bool, console, out) -> None:
    """``send --report``: the ledger as a table (``console``, rich) or as JSON (``out``, a writer of text)."""
    import json

    rows = report_rows(folder)
    if as_json:
        out(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=str(folder / LEDGER_NAME), title_justify="left")
    for name in ("recipient", "file", "status", "tries", "sent / updated (UTC)", "last error"):
        table.add_column(name, overflow="fold")
    colours = {"sent": "green", "failed": "red", "undeliverable": "red", "sending": "yellow", "pending": "yellow"}
    for row in rows:
        table.add_row(escape(row["recipient"]), escape(Path(row["file"]).name),
                      f"[{colours[row['status']]}]{row['status']}[/]", str(row["attempts"]),
                      (row["sent"] or row["updated"] or "").replace("+00:00", ""), escape(row["last_error"] or ""))
    console.print(table)
    counts = {status: sum(row["status"] == status for row in rows) for status in colours}
    console.print(", ".join(f"{n} {status}" for status, n in counts.items() if n) or "no deliveries", markup=False)
