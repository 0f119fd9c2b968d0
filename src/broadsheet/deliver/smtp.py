"""Speaking to the SMTP server: STARTTLS or implicit TLS (certificates verified), login, one
message at a time over one connection, and every failure sorted into temporary (a 4xx reply,
a connection lost, refused or timed out: try again later), permanent (a 5xx reply: this
message will not go) or fatal (no TLS, a certificate that cannot be verified, the login
refused: no message will go, stop the run)."""

from __future__ import annotations

import smtplib
import socket
import ssl
from pathlib import Path

from ..errors import BroadsheetError
from .address import SmtpServer


class Temporary(Exception):
    """Try this message again later."""


class Permanent(Exception):
    """This message will not go."""


class Fatal(BroadsheetError):
    """No message will go: the connection, its TLS or the login is refused."""


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    words = " ".join(text.split())
    return f"{code} {words[:300]}".strip()


def _classify(code: int, text: bytes | str, stage: str) -> Exception:
    reply = _reply(code, text)
    if 400 <= code < 500:
        return Temporary(f"{stage}: {reply}")
    return Permanent(f"{stage}: {reply}")


def tls_context(cafile: Path | None) -> ssl.SSLContext:
    """Certificates and host names verified: against ``cafile`` only when given, else the system's."""
    try:
        return ssl.create_default_context(cafile=str(cafile) if cafile else None)
    except (OSError, ssl.SSLError) as exc:
        raise Fatal(f"cannot read the CA certificates: {getattr(exc, 'strerror', None) or exc}", cafile) from None


class Mailer:
    """One connection to ``server``, made when first needed and made again after a failure."""

    def __init__(self, server: SmtpServer, password: str | None, *, cafile: Path | None = None,
                 timeout: float = 60.0) -> None:
        self.server = server
        self._password = password
        self.context = tls_context(cafile) if server.security != "plain" else None
        self.timeout = timeout
        self.connection: smtplib.SMTP | None = None

    def __repr__(self) -> str:
        return f"Mailer({self.server})"

    def _connect(self) -> smtplib.SMTP:
        server, name = self.server, socket.gethostname() or "localhost"
        try:
            if server.security == "tls":
                connection = smtplib.SMTP_SSL(server.host, server.port, local_hostname=name, timeout=self.timeout,
                                              context=self.context)
            else:
                connection = smtplib.SMTP(server.host, server.port, local_hostname=name, timeout=self.timeout)
        except ssl.SSLCertVerificationError as exc:
            raise self._certificate(exc) from None
        except socket.gaierror as exc:
            if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
                raise Fatal(f"{server}: cannot find the SMTP server's host: {exc.strerror}") from None
            raise Temporary(f"connect: {exc.strerror or exc}") from None
        except smtplib.SMTPConnectError as exc:
            raise _classify(exc.smtp_code, exc.smtp_error, "connect") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise Temporary(f"connect: {_os_words(exc)}") from None
        try:
            connection.ehlo()
            if server.security == "starttls":
                if not connection.has_extn("starttls"):
                    raise Fatal(f"{server}: the server offers no STARTTLS (use smtps:// for implicit TLS)")
                connection.starttls(context=self.context)
                connection.ehlo()
            if server.user:
                if not connection.has_extn("auth"):
                    raise Fatal(f"{server}: the server offers no login (AUTH)")
                connection.login(server.user, self._password or "")
        except ssl.SSLCertVerificationError as exc:
            _drop(connection)
            raise self._certificate(exc) from None
        except smtplib.SMTPAuthenticationError as exc:
            _drop(connection)
            raise Fatal(f"{server}: login as {server.user} refused: {_reply(exc.smtp_code, exc.smtp_error)}") from None
        except Fatal:
            _drop(connection)
            raise
        except smtplib.SMTPResponseException as exc:
            _drop(connection)
            raise _classify(exc.smtp_code, exc.smtp_error, "greeting") from None
        except (OSError, smtplib.SMTPException) as exc:
            _drop(connection)
            raise Temporary(f"connect: {_os_words(exc)}") from None
        return connection

    def _certificate(self, exc: ssl.SSLCertVerificationError) -> Fatal:
        return Fatal(f"{self.server}: the server's certificate cannot be verified ({exc.verify_message}); for a "
                     f"private CA give --smtp-cafile or cafile in [delivery]")

    def send(self, sender: str, recipient: str, data: bytes) -> str:
        """Send one message; return the server's reply to its data (a 250).  Raises Temporary,
        Permanent or Fatal; after any failure the connection is dropped and made again next time."""
        reused = self.connection is not None
        if self.connection is None:
            self.connection = self._connect()
        try:
            try:
                code, text = self.connection.mail(sender)
            except smtplib.SMTPServerDisconnected:
                if not reused:
                    raise
                self.close()  # the server closed an idle connection: make a new one, once
                self.connection = self._connect()
                code, text = self.connection.mail(sender)
            if code != 250:
                raise _classify(code, text, "MAIL FROM")
            code, text = self.connection.rcpt(recipient)
            if code not in (250, 251):
                raise _classify(code, text, "RCPT TO")
            code, text = self.connection.data(data)
            if code != 250:
                raise _classify(code, text, "DATA")
            return _reply(code, text)
        except (Temporary, Permanent):
            self._reset()
            raise
        except smtplib.SMTPResponseException as exc:  # data() raises when the server does not say 354
            self._reset()
            raise _classify(exc.smtp_code, exc.smtp_error, "DATA") from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise Temporary(f"connection lost: {_os_words(exc)}") from None

    def _reset(self) -> None:
        """After a refused message: a clean slate (RSET), or a new connection next time."""
        try:
            if self.connection is not None:
                self.connection.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (OSError, smtplib.SMTPException):
                _drop(self.connection)
            self.connection = None


    def abort(self) -> None:
        """Drop the connection without a word (a run stopped half-way)."""
        if self.connection is not None:
            _drop(self.connection)
            self.connection = None


def _drop(connection: smtplib.SMTP) -> None:
    try:
        connection.close()
    except OSError:
        pass


def _os_words(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
