"""Memory housekeeping for long-running processes: glibc heap trimming and out-of-memory recovery.

Heap (glibc only; every function is a harmless no-op elsewhere): each `predict` frees a few hundred MB
of temporaries, but glibc keeps freed pages mapped, per thread arena. Measured on sroie-dev, a process
running `predict` on 19 images peaked at 1680 MiB without trimming and 1071 MiB with a trim after each
call; in the Gradio server, RSS stepped up +264 MB each time a new worker thread first ran the model
until the arenas were capped (bench/soak.py).

Out of memory: a request that runs the accelerator out of memory must end with a message to that user
while the server keeps serving. The caller catches the error with `is_out_of_memory`, leaves its
`except` block (the traceback pins the frames and the tensors they hold), drops its references, then
calls `release_accelerator_memory` so the next request starts from a clean cache. Callers that must not
import torch themselves (the Gradio app) use these instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import logging
import sys

import torch

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


def trim_heap() -> bool:
    """malloc_trim(0): hand freed heap pages back to the kernel. True if memory was released."""
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False


def limit_malloc_arenas(max_arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas for threads created from now on, so new worker threads reuse arenas.

    Returns False where not applicable (no glibc) or refused.
    """
    if max_arenas < 1:
        raise ValueError(f"max_arenas must be >= 1, got {max_arenas}")
    libc = _glibc()
    if libc is None:
        return False
    applied = bool(libc.mallopt(_M_ARENA_MAX, max_arenas))
    if not applied:
        _LOG.warning("mallopt(M_ARENA_MAX, %d) was refused", max_arenas)
    return applied


def is_out_of_memory(error: BaseException) -> bool:
    """True for torch's out-of-memory error (CUDA or other accelerators) and Python's MemoryError."""
    return isinstance(error, (torch.OutOfMemoryError, MemoryError))


def release_accelerator_memory() -> None:
    """Collect garbage and return cached accelerator blocks to the driver. Safe to call on CPU."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
