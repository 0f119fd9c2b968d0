"""A real SMTP server on 127.0.0.1 for the delivery tests (aiosmtpd), with STARTTLS or implicit TLS
from a self-signed certificate made here, AUTH LOGIN/PLAIN against one user, and faults on demand."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER = "desk@example.org"
PASSWORD = "s3cret-Passw0rd-never-shown"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed CA certificate for localhost and 127.0.0.1, and its key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "broadsheet test SMTP")])
    now = dt.datetime.now(dt.timezone.utc)
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Handler:
    """Keeps what arrives; ``temporary`` replies (451) to the next DATA commands, ``refuse`` recipients
    with 550, ``block_after`` N messages holds the next DATA (never accepting it) until ``release``."""

    received: list = field(default_factory=list)
    temporary: int = 0
    refuse: set = field(default_factory=set)
    block_after: int | None = None
    block_at: str = "DATA"  # or MAIL: between two messages, the last one accepted
    delay: float = 0.0
    blocked: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    logins: list = field(default_factory=list)
    times: list = field(default_factory=list)

    async def _hold(self, stage: str) -> bool:
        if self.block_at == stage and self.block_after is not None and len(self.received) >= self.block_after:
            self.blocked.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
            return True
        return False

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if await self._hold("MAIL"):
            return "451 4.3.0 try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if await self._hold("DATA"):
            return "451 4.3.0 try again later"
        if self.temporary:
            self.temporary -= 1
            return "451 4.3.0 try again later"
        self.received.append((envelope.mail_from, tuple(envelope.rcpt_tos), envelope.original_content))
        self.times.append(time.monotonic())
        return "250 2.0.0 queued"

    def messages(self):
        return [(rcpts, message_from_bytes(data, policy=policy.default)) for _, rcpts, data in self.received]


class Server:
    """A server on 127.0.0.1: ``security`` starttls (STARTTLS required before AUTH), tls (implicit) or
    plain (no AUTH)."""

    def __init__(self, folder: Path, security: str = "starttls", handler: Handler | None = None) -> None:
        self.handler = handler or Handler()
        self.security = security
        self.port = free_port()
        self.cert, key = make_certificate(folder) if not (folder / "smtp-cert.pem").exists() else \
            (folder / "smtp-cert.pem", folder / "smtp-key.pem")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USER \
                and auth_data.password.decode() == PASSWORD
            self.handler.logins.append((mechanism, ok))
            return AuthResult(success=ok, handled=False)

        options: dict = {}
        if security == "starttls":
            options = dict(tls_context=context, require_starttls=True, authenticator=authenticate,
                           auth_require_tls=True)
        elif security == "tls":
            # aiosmtpd knows TLS only from STARTTLS: on an implicit TLS connection it must be told AUTH may go
            options = dict(ssl_context=context, authenticator=authenticate, auth_require_tls=False)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **options)

    @property
    def url(self) -> str:
        user = USER.replace("@", "%40")
        return {"starttls": f"smtp+starttls://{user}@127.0.0.1:{self.port}",
                "tls": f"smtps://{user}@127.0.0.1:{self.port}",
                "plain": f"smtp://127.0.0.1:{self.port}"}[self.security]

    def __enter__(self) -> Server:
        self.controller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.handler.release.set()
        self.controller.stop()

    def wait_for(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.handler.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
