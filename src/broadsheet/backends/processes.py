"""Layout processes, forked from a zygote that has WeasyPrint imported already.

``warm_up()`` forks the zygote as soon as a build knows it will make a PDF: it imports
WeasyPrint and its libraries (and reads fontconfig's list) while the parent goes on reading
the sources.  Each layout process is then forked from the zygote, with fork's semantics (no
main module imported again, nothing to guard in scripts): the parent hands the zygote one end
of a pipe (``socket.send_fds``), the zygote forks a worker on it and answers with its pid;
the worker receives its work (a pickled function and arguments) through the pipe and talks
to the parent through it.  What a worker logs comes back through the pipe too
(``forward_logs``), to be told by the parent (``tell``).  The zygote ends when the parent
closes its end of the control socket, or exits.  The zygote and every worker die with their
parent (``processes.die_with_parent``): a build killed outright leaves no layout running.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import struct
from multiprocessing.connection import Connection

from ..processes import die_with_parent

_zygote: _Zygote | None = None


class Worker:
    """A layout process: its pid (a child of the zygote) and the parent's end of its pipe."""

    def __init__(self, pid: int, connection: Connection) -> None:
        self.pid = pid
        self.connection = connection

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        """Close the pipe and make sure the process is gone."""
        self.connection.close()
        self.kill()


class _Zygote:
    def __init__(self) -> None:
        self.control, theirs = socket.socketpair()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the zygote
            code = 0
            try:
                die_with_parent(parent)
                self.control.close()
                _serve(theirs)
            except BaseException:  # noqa: BLE001 - never back into the parent's code
                code = 1
            finally:
                os._exit(code)
        theirs.close()
        self.pid = pid

    def start(self, target, *args) -> Worker:
        ours, theirs = multiprocessing.Pipe(duplex=True)
        socket.send_fds(self.control, [b"w"], [theirs.fileno()])
        answer = b""
        while len(answer) < 4:
            chunk = self.control.recv(4 - len(answer))
            if not chunk:
                raise RuntimeError("the layout zygote ended")
            answer += chunk
        theirs.close()
        (pid,) = struct.unpack("!i", answer)
        if pid <= 0:
            raise RuntimeError("the layout zygote could not fork")
        ours.send((target, args))
        return Worker(pid, ours)


def _serve(control: socket.socket) -> None:
    """The zygote: import what layouts need, then fork a worker for each pipe received."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped by the system
    zygote = os.getpid()
    try:
        from . import _layout_preload  # noqa: F401
    except Exception:  # noqa: BLE001 - a worker imports what it needs, and reports what fails
        pass
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(control, 16, 1)
        except OSError:
            return
        if not data or not fds:
            return
        pid = os.fork()
        if pid == 0:  # a worker
            code = 0
            try:
                die_with_parent(zygote)
                control.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                connection = Connection(fds[0])
                target, args = connection.recv()
                target(connection, *args)
            except BaseException:  # noqa: BLE001 - the parent sees the pipe close
                code = 1
            finally:
                os._exit(code)
        os.close(fds[0])
        control.sendall(struct.pack("!i", pid))


def warm_up() -> None:
    """Fork the zygote now (once), so that it imports WeasyPrint while the build goes on."""
    global _zygote
    if _zygote is None:
        _zygote = _Zygote()


def start(target, *args) -> Worker:
    """Run ``target(connection, *args)`` in a new layout process (a new zygote if the last one ended)."""
    global _zygote
    for attempt in (1, 2):
        warm_up()
        try:
            return _zygote.start(target, *args)
        except (OSError, RuntimeError) as exc:
            _zygote.control.close()
            try:
                os.waitpid(_zygote.pid, os.WNOHANG)
            except ChildProcessError:
                pass
            _zygote = None
            if attempt == 2:
                raise RuntimeError(f"could not start a layout process: {exc}") from None
    raise AssertionError("unreachable")


class _Forward(logging.Handler):
    """Send log records to the parent: ("log", logger name, level, message)."""

    def __init__(self, connection) -> None:
        super().__init__(logging.DEBUG)
        self.connection = connection

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("broadsheet") or record.levelno >= logging.ERROR:
            try:
                self.connection.send(("log", record.name, record.levelno, record.getMessage()))
            except (OSError, ValueError):
                pass


def forward_logs(connection, level: int) -> None:
    """In a layout process: log as the parent would, through ``connection``."""
    handler = _Forward(connection)
    logger = logging.getLogger("broadsheet")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(level)
    root = logging.getLogger()
    root.handlers[:] = [handler]


def tell(message) -> bool:
    """In the parent: log a forwarded record; return whether ``message`` was one."""
    if not (isinstance(message, tuple) and message and message[0] == "log"):
        return False
    _, name, level, text = message
    logging.getLogger(name).log(level, "%s", text)
    return True
