"""WeasyPrint imported without its library search's subprocesses.

WeasyPrint opens Pango, HarfBuzz, fontconfig and GObject with cffi under several names each, for every
platform (``libpango-1.0-0``, ``pango-1.0``, ``libpango-1.0.so.0``, …).  cffi asks ``ctypes.util.find_library``
for each name it cannot open as given, and on Linux that runs ``/sbin/ldconfig -p`` for every name, then, for the
names ldconfig does not list — most of them: the names of other platforms, the optional libraries an older
HarfBuzz lacks — ``gcc`` and ``ld`` in turn: about twenty processes and 0.15–0.2 s of every import, in every
layout zygote.  :func:`import_weasyprint` reads ldconfig's list once and answers every name from it as
``find_library`` does (the same library name for the same machine's ABI), and answers None for a name it does
not list.  That skips only the compiler's and the linker's search, which finds a library by a name that the
dynamic loader must then find anyway: WeasyPrint's own lists end with each library's full name, which the loader
opens as given wherever it would find it.  Should the import still fail (no glibc ldconfig, a library only the
compiler's search finds), it is made again with ``find_library`` as it is.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import io
import os
import re
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator

#: ldconfig's name for this machine's ABI, as ``ctypes.util`` maps it (plain ``libc6`` for the rest).
_ABIS = {"x86_64-64": "libc6,x86-64", "ppc64-64": "libc6,64bit", "sparc64-64": "libc6,64bit",
         "s390x-64": "libc6,64bit", "ia64-64": "libc6,IA-64"}


def _listing() -> bytes:
    """``ldconfig -p``: every library in the loader's cache, with its ABI; empty when there is no such ldconfig."""
    try:
        return subprocess.run(["/sbin/ldconfig", "-p"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, env={"LC_ALL": "C", "LANG": "C"}, check=False).stdout
    except OSError:
        return b""


def cached_find_library(listing: bytes) -> Callable[[str], str | None]:
    """``ctypes.util.find_library`` answered from ldconfig's ``listing`` alone: the first library of this
    machine's ABI named ``lib<name>.…``, as the standard one finds it there, else None."""
    machine = os.uname().machine + ("-32" if struct.calcsize("l") == 4 else "-64")
    abi = _ABIS.get(machine, "libc6")

    def find_library(name: str) -> str | None:
        found = re.search(os.fsencode(r"\s+(lib%s\.[^\s]+)\s+\(%s" % (re.escape(name), abi)), listing)
        return os.fsdecode(found.group(1)) if found else None

    return find_library


@contextlib.contextmanager
def _finding(find_library: Callable[[str], str | None]) -> Iterator[None]:
    original = ctypes.util.find_library
    ctypes.util.find_library = find_library
    try:
        yield
    finally:
        ctypes.util.find_library = original


def import_weasyprint() -> None:
    """Import WeasyPrint, its libraries found from ldconfig's list where there is one (see the module)."""
    if "weasyprint" in sys.modules or not sys.platform.startswith("linux"):
        import weasyprint  # noqa: F401

        return
    try:
        # what WeasyPrint prints when a library is not found is for the import made as it is, below
        with _finding(cached_find_library(_listing())), contextlib.redirect_stdout(io.StringIO()):
            import weasyprint  # noqa: F401
    except OSError:
        for name in [name for name in sys.modules if name == "weasyprint" or name.startswith("weasyprint.")]:
            del sys.modules[name]
        import weasyprint  # noqa: F401, F811
