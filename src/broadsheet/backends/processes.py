"""Processes with limits: a fork server, workers forked from it, time and address-space limits,
and the workers' logs told by the parent.  Nothing here knows what the workers run.

``warm_up(preload)`` forks the fork server (a zygote) as soon as a build knows it will need
workers: it imports the module named ``preload`` (a dotted module name chosen by the caller,
say WeasyPrint and what a PDF layout runs) while the parent goes on reading the sources.
Each worker is then forked from the zygote, with fork's semantics (no main module imported
again, nothing to guard in scripts): the parent hands the zygote one end of a pipe
(``socket.send_fds``), the zygote forks a worker on it and answers with its pid; the worker
receives its work (a pickled function and arguments) through the pipe and talks to the
parent through it.  What a worker logs comes back through the pipe too (``forward_logs``),
to be told by the parent (``tell``).  In a process where other threads run (a Dask worker), the zygote is
started as a new interpreter instead of forked (``_spawn``): a fork there could copy a lock another thread
holds.  A zygote ends when the parent closes its end of the
control socket, or exits.  The zygote and every worker die with their parent
(``processes.die_with_parent``): a build killed outright leaves no worker running.

``run_limited`` runs one function in a worker with a wall-clock timeout and an address-space
limit.  WeasyPrint has no guard against layouts that never finish or eat all memory (its own
documentation advises limiting time and memory per process): a child process does the work
and the parent kills it when time runs out.  The child's result (bytes) or fault (a message)
comes back through the pipe (``child_process``); no child is left behind.  ``launch_limited``
starts one and returns at once, so that several run side by side (an archive's small editions).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import multiprocessing
import os
import resource
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

from ..processes import die_with_parent

#: The running zygotes, by the name of the module they preload.
_zygotes: dict[str, _Zygote] = {}
#: Held while a zygote is started: the threads of a Dask worker may ask for one at once.
_starting = threading.Lock()


class Worker:
    """A worker process: its pid (a child of the zygote) and the parent's end of its pipe."""

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
    def __init__(self, preload: str) -> None:
        self.control, theirs = socket.socketpair()
        parent = os.getpid()
        if threading.active_count() > 1:  # a Dask worker, say: started afresh, not forked (see _spawn)
            try:
                self.pid = _spawn(theirs, parent, preload)
            finally:
                theirs.close()
            return
        pid = os.fork()
        if pid == 0:  # the zygote
            code = 0
            try:
                die_with_parent(parent)
                self.control.close()
                _serve(theirs, preload)
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


#: The descriptor a zygote started afresh (:func:`_spawn`) finds its control socket on.
SPAWNED_CONTROL_FD = 3


def _spawn(theirs: socket.socket, parent: int, preload: str) -> int:
    """Start the zygote as a new interpreter (``posix_spawn``), for a process in which other threads run.

    A fork copies only the thread that forks: a lock another thread held at that moment (in a C library, in
    the interpreter) stays held in the child for ever, and the zygote could hang on it.  Started afresh, the
    zygote imports what it needs itself; it gets the parent's module path (the working folder for its empty
    entry, as a fork would resolve it) and nothing else of its surroundings (``-I``: no path from the
    environment, no user site, not the working folder), and the control socket on a known descriptor."""
    path = [os.getcwd() if entry == "" else entry for entry in sys.path]
    code = ("import json, sys; sys.path[:] = json.loads(sys.argv[3]); "
            "from broadsheet.backends.processes import _spawned; _spawned()")
    argv = [sys.executable, "-I", "-c", code, str(parent), preload, json.dumps(path)]
    return os.posix_spawn(sys.executable, argv, os.environ,
                          file_actions=[(os.POSIX_SPAWN_DUP2, theirs.fileno(), SPAWNED_CONTROL_FD)],
                          setsigmask=(), setsigdef=(signal.SIGINT, signal.SIGTERM, signal.SIGCHLD))


def _spawned() -> None:
    """A zygote started by :func:`_spawn`: the same service as a forked one.  It ends when its control socket
    closes (the parent process ends, however), not by ``die_with_parent``: the kernel's parent-death signal
    follows the *thread* that started it, and a Dask worker's threads come and go."""
    code = 0
    try:
        if os.getppid() != int(sys.argv[1]):  # the parent ended already
            os._exit(1)
        _serve(socket.socket(fileno=SPAWNED_CONTROL_FD), sys.argv[2])
    except BaseException:  # noqa: BLE001 - the parent sees the socket close
        code = 1
    finally:
        os._exit(code)


def _serve(control: socket.socket, preload: str) -> None:
    """The zygote: import ``preload`` (what the workers need), then fork a worker for each pipe received."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped by the system
    zygote = os.getpid()
    try:
        importlib.import_module(preload)
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


def warm_up(preload: str) -> None:
    """Fork the zygote that preloads the module named ``preload`` now (once), so that it imports
    that module while the build goes on."""
    with _starting:
        if preload not in _zygotes:
            _zygotes[preload] = _Zygote(preload)


def start(preload: str, target, *args) -> Worker:
    """Run ``target(connection, *args)`` in a new worker forked from the zygote that preloads the
    module named ``preload`` (a new zygote if the last one ended)."""
    for attempt in (1, 2):
        warm_up(preload)
        zygote = _zygotes[preload]
        try:
            return zygote.start(target, *args)
        except (OSError, RuntimeError) as exc:
            zygote.control.close()
            try:
                os.waitpid(zygote.pid, os.WNOHANG)
            except ChildProcessError:
                pass
            del _zygotes[preload]
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
    """In a worker: log as the parent would, through ``connection``."""
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


# -- a worker with limits ----------------------------------------------------------------------

class LayoutTimeout(Exception):
    """The child took longer than allowed."""


class LayoutFailed(Exception):
    """The child raised, ran out of memory or died."""


@contextlib.contextmanager
def child_process(connection, memory_bytes: int, log_level: int) -> Iterator[None]:
    """In a layout process: ignore Ctrl-C (the parent decides; it reaches the parent too), log
    through ``connection`` at the parent's level, limit the address space to ``memory_bytes``,
    and report whatever goes wrong to the parent as ("error", message) instead of raising."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    forward_logs(connection, log_level)
    if memory_bytes:
        try:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        except (ValueError, OSError):
            pass
    out_of_memory = f"out of memory (limit {memory_bytes // 2**20} MB)"
    try:
        yield
    except MemoryError:
        connection.send(("error", out_of_memory))
    except OSError as exc:
        connection.send(("error", out_of_memory if exc.errno == 12 else str(exc)))  # 12: ENOMEM below Python
    except BaseException as exc:  # noqa: BLE001 - everything is reported to the parent
        message = str(exc) or type(exc).__name__
        if os.environ.get("BROADSHEET_DEBUG"):
            message += "\n" + traceback.format_exc()
        connection.send(("error", message))
    finally:
        connection.close()


def _child(connection, function, args, memory_bytes, log_level) -> None:
    with child_process(connection, memory_bytes, log_level):
        connection.send(("ok", function(*args)))


class Running:
    """A function running in a worker with limits (:func:`launch_limited`): its result is waited for with
    :meth:`result`, or the worker is ended with :meth:`stop`."""

    def __init__(self, worker: Worker, timeout: float) -> None:
        self.worker = worker
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout

    def result(self) -> Any:
        """The function's result; what the worker logs meanwhile is told here.  The worker is gone after."""
        try:
            while True:
                if not self.worker.connection.poll(max(0.0, self.deadline - time.monotonic())):
                    raise LayoutTimeout(f"took longer than {self.timeout:g} s")
                try:
                    message = self.worker.connection.recv()
                except EOFError:
                    raise LayoutFailed("the layout process died") from None
                if not tell(message):
                    break
            status, value = message
            if status == "error":
                raise LayoutFailed(value)
            return value
        finally:
            self.stop()

    def stop(self) -> None:
        self.worker.stop()


def launch_limited(function: Callable[..., Any], *args: Any, preload: str, timeout: float,
                   memory_mb: int) -> Running:
    """Start ``function(*args)`` in a worker within the limits, and return at once (see :func:`run_limited`):
    several can run at the same time, each timed from its own start."""
    level = logging.getLogger("broadsheet").getEffectiveLevel()
    try:
        worker = start(preload, _child, function, args, memory_mb * 2**20, level)
    except RuntimeError as exc:
        raise LayoutFailed(str(exc)) from None
    return Running(worker, timeout)


def run_limited(function: Callable[..., Any], *args: Any, preload: str, timeout: float, memory_mb: int) -> Any:
    """Return ``function(*args)`` computed in a worker within the limits.

    The worker is forked from the zygote that preloads the module named ``preload``, so
    ``function`` and ``args`` are pickled; what it logs is told here."""
    return launch_limited(function, *args, preload=preload, timeout=timeout, memory_mb=memory_mb).result()
