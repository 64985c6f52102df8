"""Keep the server's resident memory close to its live memory (glibc's malloc; no-ops elsewhere).

Measured on this app (bench/soak.py and a thread-by-thread probe): each OCR request frees hundreds of MB
of temporaries, but glibc keeps freed heap pages mapped, per thread arena. Gradio runs handlers on a pool
of worker threads, so the resident size steps up whenever a new worker thread first runs the model
(+264 MB at one such step in the soak) and stays there. Two settings fix the cause:

- `limit_malloc_arenas`: at most 2 malloc arenas (M_ARENA_MAX), so new worker threads reuse arenas;
- `release_freed_memory`: `malloc_trim(0)` after each request hands freed pages back to the kernel
  (about 40-65 ms after a 10 s request; RSS after a page-sized request 0.7-1.0 GB -> about 0.45 GB).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import sys

_LOG = logging.getLogger(__name__)
_M_ARENA_MAX = -8  # mallopt parameter number in glibc's malloc.h


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
    # musl (Alpine) has neither; only glibc's malloc has arenas to limit and trim.
    if not all(hasattr(libc, symbol) for symbol in ("mallopt", "malloc_trim", "gnu_get_libc_version")):
        return None
    return libc


def limit_malloc_arenas(max_arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas for threads created from now on. Returns False where not applicable."""
    if max_arenas < 1:
        raise ValueError(f"max_arenas must be >= 1, got {max_arenas}")
    libc = _glibc()
    if libc is None:
        return False
    applied = bool(libc.mallopt(_M_ARENA_MAX, max_arenas))
    if not applied:
        _LOG.warning("mallopt(M_ARENA_MAX, %d) was refused", max_arenas)
    return applied


def release_freed_memory() -> bool:
    """Return freed heap pages to the kernel (malloc_trim(0)). Returns True if memory was released."""
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.malloc_trim(0))
