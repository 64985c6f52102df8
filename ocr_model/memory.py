"""Give freed heap memory back to the OS after a call (glibc only; a no-op elsewhere).

Each `predict` frees a few hundred MB of network temporaries; glibc keeps most of it
mapped and fragmented, so a long-running process's resident size creeps up call after
call (measured on sroie-dev: 355 -> 1680 MiB peak over 19 images without trimming,
1319 MiB with a trim after each call).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "gnu_get_libc_version") else None


def trim_heap() -> bool:
    """malloc_trim(0): True if memory was returned to the kernel."""
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
