"""Tests for demo/allocator.py (glibc malloc settings; no-ops where glibc is absent)."""

from __future__ import annotations

import ctypes
import sys

import pytest

from demo import allocator


def test_functions_run_and_report_whether_glibc_is_there() -> None:
    on_glibc = allocator._glibc() is not None
    assert allocator.limit_malloc_arenas(2) is on_glibc
    assert isinstance(allocator.release_freed_memory(), bool)


def test_invalid_arena_count_is_refused() -> None:
    with pytest.raises(ValueError):
        allocator.limit_malloc_arenas(0)


@pytest.mark.skipif(not sys.platform.startswith("linux") or allocator._glibc() is None, reason="glibc only")
def test_release_freed_memory_returns_pages_to_the_kernel() -> None:
    import psutil

    process = psutil.Process()
    allocator.release_freed_memory()
    # Many mid-size blocks (below the mmap threshold, so they live on the heap), then free all but the last.
    blocks = [ctypes.create_string_buffer(64 * 1024) for _ in range(3000)]  # ~190 MB, touched (zeroed)
    keep = blocks[-1]
    del blocks
    before = process.memory_info().rss
    assert allocator.release_freed_memory() is True
    after = process.memory_info().rss
    assert before - after > 100 * 1024 * 1024, f"only {(before - after) / 1e6:.0f} MB returned"
    del keep
