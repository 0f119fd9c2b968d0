"""Processes that die with their parent, and a supervisor that can always stop a build.

A command that reads sources (``build``, ``inspect``, ``digest``) does its work in a child
process, the leader of its own process group, while the command's first process waits
(:func:`supervise`).  Untrusted parsing may sit for minutes in a native call that Python's
signal handlers wait for; the supervisor never does any such work, so SIGTERM, SIGINT and
SIGHUP reach it at once: it kills the child's whole group (SIGTERM, then SIGKILL after a
second's grace), removes the partial outputs the child left (``output`` records each one as
it is made) and prints one line.  The child runs under the wall-clock limit
(``limits.build_seconds``, kept by the supervisor) and the address-space limit
(``limits.build_memory_mb``, a soft limit, so that layout processes set their own).

Every process broadsheet forks calls :func:`die_with_parent` first: killed with SIGKILL when
its parent ends, whatever way it ends (``kill -9`` of the build leaves nothing running).
"""

from __future__ import annotations

import os
import signal
import sys
import time

#: Set to 1 to do the work in the command's own process (profiling, debugging).
NO_SUPERVISOR = "BROADSHEET_NO_SUPERVISOR"
#: How long a stopped build may take to end before its group is killed outright.
GRACE_SECONDS = 1.0
#: The CLI options that raise a limit, for the messages that name them.
RAISE_TIME = "--time-limit"
RAISE_MEMORY = "--memory-limit"

#: In a supervised child: the address-space limit it runs under, in MB (None: none set here).
memory_limit_mb: int | None = None

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1
_prctl = None


def die_with_parent(parent: int | None) -> None:
    """In a process just forked from ``parent``: be killed (SIGKILL) when the parent ends, and
    end now if it has ended already (the child was then adopted by another process).  ``None``: the
    parent is a zygote whose pid the child was not told; only the first part holds."""
    global _prctl
    if sys.platform.startswith("linux"):
        try:
            if _prctl is None:
                import ctypes

                _prctl = ctypes.CDLL(None, use_errno=True).prctl
            _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if parent is not None and os.getppid() != parent:
        os._exit(1)


#: What :meth:`Forked.result` gives when the child ended without a value.
NOTHING = object()


class Forked:
    """A function running in a child forked from this process (:func:`fork_call`)."""

    def __init__(self, pid: int, out) -> None:
        self._pid, self._out = pid, out

    def result(self):
        """Wait for the child; its function's value, or :data:`NOTHING` when it ended without one (a fault,
        killed, out of memory)."""
        import pickle

        if self._pid is None:
            return NOTHING
        pid, out, self._pid, self._out = self._pid, self._out, None, None
        with out:
            try:
                _, status = os.waitpid(pid, 0)
            except ChildProcessError:
                return NOTHING
            if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
                return NOTHING
            try:
                out.seek(0)
                return pickle.load(out)
            except Exception:  # noqa: BLE001 - nothing whole was written
                return NOTHING

    def cancel(self) -> None:
        """End the child, if it still runs, and reap it (nothing if :meth:`result` was called)."""
        if self._pid is None:
            return
        pid, out, self._pid, self._out = self._pid, self._out, None, None
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        out.close()


def fork_call(function, *args) -> Forked | None:
    """Run ``function(*args)`` in a child forked now, with everything this process holds, while this process
    goes on; the child dies with it and writes the pickled value to an unnamed file.  None where a fork is not
    safe (another thread runs: the child could inherit a lock it holds) or cannot be had."""
    import threading

    if not sys.platform.startswith("linux") or threading.active_count() != 1:
        return None
    import tempfile

    try:
        out = tempfile.TemporaryFile()
    except OSError:
        return None
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        out.close()
        return None
    if pid == 0:  # the child: never back into the caller
        code = 1
        try:
            import pickle

            die_with_parent(parent)
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, signal.SIG_DFL)
            pickle.dump(function(*args), out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
            code = 0
        finally:
            os._exit(code)
    return Forked(pid, out)


#: glibc's mallopt parameters: the size from which a block is mapped on its own, and the free memory at the
#: heap's top from which it is given back.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def keep_freed_memory(size: int = 256 << 20) -> None:
    """In a worker that makes and frees large buffers one after another (a picture's pixels, its JPEG): keep
    what it frees for the next, up to ``size``, instead of giving it back to the system.

    glibc's malloc maps a large block on its own and unmaps it when it is freed, and gives the free top of the
    heap back; the next picture then faults the same memory in again, page by page.  In the picture workers
    that was half their processor time (1.0 s of system time in 2.4 s for 210 photographs), against 0.05 s
    with the memory kept.  Nothing is freed for good until the worker ends; elsewhere than glibc, nothing
    changes."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
        mallopt(_M_MMAP_THRESHOLD, size)
        mallopt(_M_TRIM_THRESHOLD, size)
    except (OSError, AttributeError):
        pass


def out_of_the_collector(collect: bool = True) -> None:
    """Move what this process holds out of the cyclic garbage collector's reach (``gc.freeze``), having first
    collected the garbage (``collect``).  Every full collection walks every object in its reach; what lives as
    long as the process (large libraries' tables, a build's model, a worker's templates and inputs) need not
    be walked again and again, and a child forked later does not write to its pages when it collects.  What is
    moved is still freed when nothing refers to it; the collector no longer looks for cycles among it, so a
    process that keeps running calls this once, not for each piece of work."""
    import gc

    if collect:
        gc.collect()
    gc.freeze()


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class Stopped(Exception):
    """Why a supervised build was ended: its one line."""


def supervise(command: str = "build") -> None:
    """Fork the process that does ``command``'s work.  Returns in that child; in the calling
    process, waits for it and exits with its status (or 1 and one line when a signal or a
    limit stopped it).  Does nothing where fork or signal waiting is missing, or with
    ``BROADSHEET_NO_SUPERVISOR=1``."""
    if os.environ.get(NO_SUPERVISOR) == "1" or not hasattr(os, "fork") or not hasattr(signal, "sigtimedwait"):
        return
    from . import limits, output

    policy = limits.current()
    journal = output.open_journal()
    waited = {*_STOP_SIGNALS, signal.SIGCHLD}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, waited)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:  # no process to spare: do the work here, unsupervised, signals as they were
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(journal)
        return
    if pid == 0:
        _become_worker(parent, mask, journal, policy.build_memory_mb)
        return
    try:
        os.setpgid(pid, pid)
    except OSError:  # the child did it first, or has ended already
        pass
    # a watch (``build --watch``) runs until stopped: no wall clock for it
    code = _wait(pid, waited, float("inf") if command == "watch" else policy.build_seconds, command)
    try:
        output.remove_partials(journal)
    finally:
        os.close(journal)
    if isinstance(code, Stopped):
        if sys.stderr.isatty():  # the child's progress bar, cut off: clear its line, show the cursor again
            sys.stderr.write("\r\x1b[2K\x1b[?25h")
        print(f"broadsheet: error: {code}", file=sys.stderr, flush=True)
        code = 1
    sys.exit(code)


def _become_worker(parent: int, mask, journal: int, memory_mb: int) -> None:
    """In the child: lead a process group, die with the supervisor, take signals by their
    default action (the supervisor cleans up), keep to the memory limit, journal outputs."""
    global memory_limit_mb
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    die_with_parent(parent)
    for signum in _STOP_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    # not the terminal's foreground group: writing to the terminal must not stop the child
    for signum in (signal.SIGTTOU, signal.SIGTTIN):
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    if memory_mb:
        import resource

        try:
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            soft = memory_mb * 2**20
            if hard != resource.RLIM_INFINITY:
                soft = min(soft, hard)
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
            memory_limit_mb = soft // 2**20
        except (ValueError, OSError):
            pass
    from . import output

    output.use_journal(journal)


def _exited(pid: int) -> bool:
    """Whether the child has ended (it stays a zombie, so its group id cannot be reused yet)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _reap(pid: int) -> int:
    """Kill what is left of the child's group, collect the child and return its wait status."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return 0


def _wait(pid: int, waited: set, seconds: float, command: str) -> int | Stopped:
    """Wait for the child; stop it at a stop signal or when its time is up."""
    deadline = time.monotonic() + seconds
    stop: Stopped | None = None
    while True:
        if _exited(pid):
            break
        left = deadline - time.monotonic()
        if left <= 0:
            stop = Stopped(f"the {command} took longer than {seconds:g} s (its time limit; "
                           f"raise it with {RAISE_TIME})")
            break
        info = signal.sigtimedwait(waited, min(left, 0.5))
        if info is not None and info.si_signo in _STOP_SIGNALS:
            stop = Stopped(f"stopped by {_signal_name(info.si_signo)}; nothing half-written was left")
            break
    if stop is not None:
        try:
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
        grace = time.monotonic() + GRACE_SECONDS
        while not _exited(pid) and time.monotonic() < grace:
            time.sleep(0.02)
        _reap(pid)
        return stop
    status = _reap(pid)
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        if signum in _STOP_SIGNALS:
            return Stopped(f"stopped by {_signal_name(signum)}; nothing half-written was left")
        hint = " (out of memory?)" if signum == signal.SIGKILL else ""
        return Stopped(f"the {command} process was killed by {_signal_name(signum)}{hint}")
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1
