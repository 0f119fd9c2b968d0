"""E-mail addresses, SMTP server URLs and sending rates, checked.  A leaf: the standard library only.

Addresses are plain ASCII ``local@domain`` (what mail-to-device services such as Send to
Kindle accept); nothing that could end a header line or add a recipient gets through.  An
SMTP server is named by a URL whose scheme says how the connection is protected:

- ``smtp+starttls://user@host:587`` — plain connection upgraded with STARTTLS (required), then login;
- ``smtps://user@host:465`` — TLS from the first byte (implicit TLS), then login;
- ``smtp://host:25`` — no TLS, and so no login: a relay on the local network.

A password is never part of the URL: it comes only from the environment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"^({_LOCAL})@((?:{_LABEL}\.)+[A-Za-z]{{2,63}}|localhost|\[[0-9.]+\])\Z")
_NAMED = re.compile(r"^\s*(?P<name>[^<>\"\r\n]*?)\s*<(?P<address>[^<>\s]+)>\s*\Z")

SCHEMES = {"smtp+starttls": "starttls", "smtps": "tls", "smtp": "plain"}
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "plain": 25}


def _shown(text: str, limit: int = 80) -> str:
    text = repr(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_address(text: str) -> str:
    """``text`` as a recipient address (surrounding blanks removed, the domain in lower case)."""
    value = text.strip() if isinstance(text, str) else text
    if not isinstance(value, str) or len(value) > 254 or not _ADDRESS.match(value):
        raise ValueError(f"expected an e-mail address such as reader@example.org, got {_shown(str(text))}")
    local, _, domain = value.rpartition("@")
    if len(local) > 64:
        raise ValueError(f"the part before @ is longer than 64 characters, got {_shown(value)}")
    return f"{local}@{domain.lower()}"


def check_sender(text: str) -> str:
    """``text`` as a From address: ``news@example.org`` or ``The Gazette <news@example.org>``."""
    if not isinstance(text, str):
        raise ValueError(f"expected an e-mail address, got {_shown(str(text))}")
    named = _NAMED.match(text)
    if named:
        address = check_address(named.group("address"))
        name = named.group("name").strip()
        if any(ord(c) < 32 for c in name):
            raise ValueError(f"control characters in the sender's name, got {_shown(text)}")
        return f"{name} <{address}>" if name else address
    return check_address(text)


def bare(address: str) -> str:
    """The address alone of ``Name <address>``."""
    named = _NAMED.match(address)
    return named.group("address") if named else address


def display_name(address: str) -> str:
    """The name of ``Name <address>`` ('' for a bare address)."""
    named = _NAMED.match(address)
    return named.group("name").strip() if named else ""


def domain_of(address: str) -> str:
    return bare(address).rpartition("@")[2].lower()


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to send: ``security`` is starttls, tls or plain."""

    security: str
    host: str
    port: int
    user: str | None = None

    def __str__(self) -> str:  # never holds a password: there is none to hold
        scheme = {v: k for k, v in SCHEMES.items()}[self.security]
        user = f"{quote(self.user, safe='')}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{user}{host}:{self.port}"


def parse_smtp_url(text: str) -> SmtpServer:
    """An SMTP server URL (see the module's text); the fault in words otherwise.  The URL is not
    repeated in an error when it might hold a password."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("expected a URL such as smtp+starttls://user@smtp.example.org:587")
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise ValueError("expected a URL such as smtp+starttls://user@smtp.example.org:587 "
                         "(the host or port cannot be read)") from None
    if parts.password is not None:
        raise ValueError("a password in the SMTP URL is refused (got one, not repeated here): set "
                         "BROADSHEET_SMTP_PASSWORD in the environment instead")
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(f"expected a URL starting smtp+starttls://, smtps:// or smtp://, got {_shown(text)}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"expected scheme://[user@]host[:port] and nothing more, got {_shown(text)}")
    host = parts.hostname
    if not host or not re.fullmatch(r"[A-Za-z0-9.:-]+", host):
        raise ValueError(f"expected a host name, got {_shown(text)}")
    security = SCHEMES[scheme]
    user = unquote(parts.username) if parts.username else None
    if user is not None and (not user or any(ord(c) < 32 for c in user)):
        raise ValueError(f"expected a user name, got {_shown(text)}")
    if security == "plain" and user:
        raise ValueError("a login over a connection without TLS is refused: use smtp+starttls:// or smtps://")
    return SmtpServer(security, host, port or DEFAULT_PORTS[security], user)


_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$", re.IGNORECASE)
_PER = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}


def parse_rate(text: str) -> float:
    """Seconds between two messages for a rate such as ``30/min`` (also ``/s`` and ``/hour``)."""
    match = _RATE.match(text) if isinstance(text, str) else None
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"expected a rate such as 30/min, 1/s or 500/hour, got {_shown(str(text))}")
    return _PER[match.group(2).lower()] / float(match.group(1))
