"""Run a layout in a child process with a wall-clock timeout and an address-space limit.

WeasyPrint has no guard against layouts that never finish or eat all memory (its own
documentation advises limiting time and memory per process): a child process does the
work and the parent kills it when time runs out.  The child's result (bytes) or fault (a
message) comes back through a pipe; no child is left behind.  Children are forked from the
layout zygote (``pdf_worker``), which has WeasyPrint imported already.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any


class LayoutTimeout(Exception):
    """The child took longer than allowed."""


class LayoutFailed(Exception):
    """The child raised, ran out of memory or died."""


@contextlib.contextmanager
def child_process(connection, memory_bytes: int, log_level: int) -> Iterator[None]:
    """In a layout process: ignore Ctrl-C (the parent decides; it reaches the parent too), log
    through ``connection`` at the parent's level, limit the address space to ``memory_bytes``,
    and report whatever goes wrong to the parent as ("error", message) instead of raising."""
    from .pdf_worker import forward_logs

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


def run_limited(function: Callable[..., Any], *args: Any, timeout: float, memory_mb: int) -> Any:
    """Return ``function(*args)`` computed in a layout process within the limits.

    The process is forked from the layout zygote (``pdf_worker``), so ``function`` and
    ``args`` are pickled; what it logs is told here."""
    from .pdf_worker import start, tell

    level = logging.getLogger("broadsheet").getEffectiveLevel()
    try:
        worker = start(_child, function, args, memory_mb * 2**20, level)
    except RuntimeError as exc:
        raise LayoutFailed(str(exc)) from None
    deadline = time.monotonic() + timeout
    try:
        while True:
            if not worker.connection.poll(max(0.0, deadline - time.monotonic())):
                raise LayoutTimeout(f"took longer than {timeout:g} s")
            try:
                message = worker.connection.recv()
            except EOFError:
                raise LayoutFailed("the layout process died") from None
            if not tell(message):
                break
        status, value = message
        if status == "error":
            raise LayoutFailed(value)
        return value
    finally:
        worker.stop()
