"""Where and how the engine runs: device, precision and CPU threads; memory housekeeping for long-running
processes (glibc heap trimming and out-of-memory recovery).

Device, precision, threads: `select_device` and `configure_cpu_threads` take the device and thread count as
arguments (bulk workers pass theirs this way); without one they read `OCR_DEVICE` and `OCR_NUM_THREADS`, as
`select_precision` reads `OCR_PRECISION`. Nothing here writes the environment.

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
import os
import sys

import torch

from .config import positive_int_from_env

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


# ---------------------------------------------------------------------------------------------------------
# Device, precision and CPU threads


def select_device(requested: str | None = None) -> str:
    """`requested` if given, else `OCR_DEVICE` if set (e.g. "cpu", "cuda", "cuda:1"), else CUDA when
    available, else CPU; "auto" (given or set) also means CUDA when available, else CPU. A ValueError
    names the bad device and where it came from."""
    source = "device"
    if not requested:
        requested = os.environ.get("OCR_DEVICE", "").strip()
        source = "OCR_DEVICE"
    if requested and requested != "auto":
        try:
            device = torch.device(requested)
        except RuntimeError as error:
            raise ValueError(f"{source}={requested!r} is not a valid torch device") from error
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"{source}={requested!r} but CUDA is not available")
        return str(device)
    return "cuda" if torch.cuda.is_available() else "cpu"


_PRECISIONS = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def cpu_has_native_bfloat16() -> bool:
    """Whether this CPU computes bf16 dot products natively (AVX512-BF16 or AMX), per /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def select_precision(device: str) -> torch.dtype:
    """`OCR_PRECISION` if set (float32, bfloat16, float16); else bfloat16 on a CPU with native
    bf16 (oneDNN runs the networks ~2x faster at the same word F1), float32 otherwise."""
    requested = os.environ.get("OCR_PRECISION", "").strip().lower()
    if requested:
        if requested not in _PRECISIONS:
            raise ValueError(f"OCR_PRECISION must be one of {', '.join(_PRECISIONS)}, got {requested!r}")
        return _PRECISIONS[requested]
    if torch.device(device).type == "cpu" and cpu_has_native_bfloat16():
        return torch.bfloat16
    return torch.float32


def configure_cpu_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads (process-wide) to `threads`, else `OCR_NUM_THREADS`, else the
    physical cores."""
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    threads = threads or positive_int_from_env("OCR_NUM_THREADS") or physical_core_count()
    torch.set_num_threads(threads)
    return threads


def physical_core_count() -> int:
    """Physical cores this process may run on (hyper-threads not counted)."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except AttributeError:
        return max(1, os.cpu_count() or 1)
    cores = set()
    for cpu in allowed:
        base = f"/sys/devices/system/cpu/cpu{cpu}/topology"
        try:
            with open(f"{base}/physical_package_id") as package, open(f"{base}/core_id") as core:
                cores.add((package.read().strip(), core.read().strip()))
        except OSError:
            cores.add(("cpu", str(cpu)))
    return max(1, len(cores))
