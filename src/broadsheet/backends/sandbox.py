"""Run a layout in a child process with a wall-clock timeout and an address-space limit.

WeasyPrint has no guard against layouts that never finish or eat all memory (its own
documentation advises limiting time and memory per process): a child process does the
work and the parent kills it when time runs out.  The child's result (bytes) or fault (a
message) comes back through a pipe; no child is left behind.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import traceback
from collections.abc import Callable
from typing import Any


class LayoutTimeout(Exception):
    """The child took longer than allowed."""


class LayoutFailed(Exception):
    """The child raised, ran out of memory or died."""


def _child(connection, function, args, memory_bytes) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; Ctrl-C reaches it too
    if memory_bytes:
        try:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        except (ValueError, OSError):
            pass
    try:
        connection.send(("ok", function(*args)))
    except MemoryError:
        connection.send(("error", f"out of memory (limit {memory_bytes // 2**20} MB)"))
    except OSError as exc:
        if exc.errno == 12:  # ENOMEM from a library below Python
            connection.send(("error", f"out of memory (limit {memory_bytes // 2**20} MB)"))
        else:
            connection.send(("error", str(exc)))
    except BaseException as exc:  # noqa: BLE001 - everything is reported to the parent
        message = str(exc) or type(exc).__name__
        if os.environ.get("BROADSHEET_DEBUG"):
            message += "\n" + traceback.format_exc()
        connection.send(("error", message))
    finally:
        connection.close()


def run_limited(function: Callable[..., Any], *args: Any, timeout: float, memory_mb: int) -> Any:
    """Return ``function(*args)`` computed in a child process within the limits."""
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(child, function, args, memory_mb * 2**20), daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise LayoutTimeout(f"took longer than {timeout:g} s")
        try:
            status, value = parent.recv()
        except EOFError:
            raise LayoutFailed(f"the layout process died (exit status {process.exitcode})") from None
        if status == "error":
            raise LayoutFailed(value)
        return value
    finally:
        parent.close()
        if process.is_alive():
            process.kill()
        process.join(5)
