"""The delivery ledger: one SQLite row per (recipient, SHA-256 of the file), in the output folder.

A row's status is one of

- ``pending``   known, not sent yet (or given back by a run that stopped before sending);
- ``sending``   claimed by a run (``lease_pid`` on ``lease_host`` until ``lease_until``);
- ``sent``      the server answered 250 to the message's data;
- ``failed``    refused for good (5xx), or still failing after the last retry;
- ``undeliverable`` larger than the recipient takes, and no ``base_url`` to link it from.

**Claims.**  A run takes a message by turning its row to ``sending`` inside ``BEGIN IMMEDIATE``
(one writer at a time), only from ``pending``, ``failed`` or ``undeliverable``, or from a
``sending`` whose lease is stale: expired, or held by a process of this host that is gone.
Before each attempt the claimer renews its lease, and gives the message up if the row is no
longer its own.  Two runs at once therefore never send one message twice.

**The crash window.**  ``sent`` is written in its own transaction right after the server's 250
to the data, before anything else (not after QUIT, not at the end of the run).  A run killed
between that 250 and the commit leaves the row ``sending`` under a dead pid; the next run
sends it again.  That is the one way a message goes out twice (at-least-once), and it is a
window of microseconds, where the other choice (never resend a message whose run died while
sending it: at-most-once) loses every message a run is killed during — seconds per message for
an attachment of megabytes.  A repeat carries the same Message-ID, which mail systems use to
drop duplicates.  Killed at any other point, a rerun sends every message exactly once.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

LEDGER_NAME = ".broadsheet-deliveries.sqlite"
STATUSES = ("pending", "sending", "sent", "failed", "undeliverable")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    recipient    TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    file         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'undeliverable')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    message_id   TEXT,
    lease_pid    INTEGER,
    lease_host   TEXT,
    lease_until  REAL,
    created      REAL NOT NULL,
    updated      REAL NOT NULL,
    sent_at      REAL,
    PRIMARY KEY (recipient, sha256)
)
"""


@dataclass(frozen=True)
class Row:
    recipient: str
    sha256: str
    file: str
    size: int
    status: str
    attempts: int
    last_error: str | None
    message_id: str | None
    lease_pid: int | None
    lease_host: str | None
    lease_until: float | None
    created: float
    updated: float
    sent_at: float | None


def _alive(pid: int) -> bool:
    """Whether process ``pid`` of this host still runs (a zombie, killed but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rpartition(b")")[2].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return True


class Ledger:
    """The ledger of one output folder (made on first use)."""

    def __init__(self, path: Path, *, lease: float = 900.0) -> None:
        self.path = path
        self.lease = lease
        self.pid = os.getpid()
        self.host = socket.gethostname()
        self.db = sqlite3.connect(path, timeout=60, isolation_level=None)
        self.db.execute("PRAGMA busy_timeout = 60000")
        with self._write():
            self.db.execute(_SCHEMA)

    @classmethod
    def existing(cls, path: Path) -> Ledger | None:
        return cls(path) if path.is_file() else None

    def close(self) -> None:
        self.db.close()

    def _write(self):
        return _Immediate(self.db)

    def _stale(self, row: Row, now: float) -> bool:
        if row.lease_until is None or row.lease_until < now:
            return True
        if row.lease_host == self.host and row.lease_pid is not None:
            return row.lease_pid != self.pid and not _alive(row.lease_pid)
        return False

    def get(self, recipient: str, sha256: str) -> Row | None:
        found = self.db.execute("SELECT * FROM deliveries WHERE recipient = ? AND sha256 = ?",
                                (recipient, sha256)).fetchone()
        return Row(*found) if found else None

    def rows(self) -> list[Row]:
        return [Row(*found) for found in self.db.execute(
            "SELECT * FROM deliveries ORDER BY created, recipient, file")]

    def claim(self, recipient: str, sha256: str, file: str, size: int) -> str:
        """Take the message for this run: ``claimed``, or why not: ``sent`` (already) or ``busy``
        (another run holds it)."""
        now = time.time()
        with self._write():
            row = self.get(recipient, sha256)
            if row is None:
                self.db.execute(
                    "INSERT INTO deliveries (recipient, sha256, file, size, status, lease_pid, lease_host, "
                    "lease_until, created, updated) VALUES (?, ?, ?, ?, 'sending', ?, ?, ?, ?, ?)",
                    (recipient, sha256, file, size, self.pid, self.host, now + self.lease, now, now))
                return "claimed"
            if row.status == "sent":
                return "sent"
            if row.status == "sending" and not self._stale(row, now):
                return "busy"
            self.db.execute(
                "UPDATE deliveries SET status = 'sending', file = ?, lease_pid = ?, lease_host = ?, lease_until = ?, "
                "updated = ? WHERE recipient = ? AND sha256 = ?",
                (file, self.pid, self.host, now + self.lease, now, recipient, sha256))
            return "claimed"

    def attempt(self, recipient: str, sha256: str, message_id: str) -> bool:
        """Renew this run's lease before an attempt (and count it, with the Message-ID it sends: the one to
        look for in the server's log if the run dies); False if the row is no longer ours."""
        now = time.time()
        with self._write():
            cursor = self.db.execute(
                "UPDATE deliveries SET attempts = attempts + 1, message_id = ?, lease_until = ?, updated = ? "
                "WHERE recipient = ? AND sha256 = ? AND status = 'sending' AND lease_pid = ? AND lease_host = ?",
                (message_id, now + self.lease, now, recipient, sha256, self.pid, self.host))
            return cursor.rowcount == 1

    def sent(self, recipient: str, sha256: str, message_id: str, note: str | None = None) -> None:
        """Record the server's 250: at once, whoever holds the lease now (the message is out)."""
        now = time.time()
        with self._write():
            self.db.execute(
                "UPDATE deliveries SET status = 'sent', message_id = ?, last_error = ?, sent_at = ?, updated = ?, "
                "lease_pid = NULL, lease_host = NULL, lease_until = NULL WHERE recipient = ? AND sha256 = ?",
                (message_id, note, now, now, recipient, sha256))

    def settle(self, recipient: str, sha256: str, status: str, error: str | None) -> None:
        """End this run's claim with ``status`` (pending, failed or undeliverable) and the error."""
        assert status in ("pending", "failed", "undeliverable")
        now = time.time()
        with self._write():
            self.db.execute(
                "UPDATE deliveries SET status = ?, last_error = ?, updated = ?, lease_pid = NULL, "
                "lease_host = NULL, lease_until = NULL WHERE recipient = ? AND sha256 = ? AND status = 'sending' "
                "AND lease_pid = ? AND lease_host = ?",
                (status, error, now, recipient, sha256, self.pid, self.host))


class _Immediate:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on an exception): one writer at a time."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, exc, tb) -> None:
        if kind is None:
            self.db.execute("COMMIT")
        else:
            self.db.execute("ROLLBACK")
