"""Tests for ocr_model/runtime.py (memory): heap trimming, arena cap, out-of-memory detection and cache release."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ocr_model import runtime


def test_functions_run_and_report_whether_glibc_is_there() -> None:
    on_glibc = runtime._glibc() is not None
    assert runtime.limit_malloc_arenas(2) is on_glibc
    # 16 MiB in 64 KiB blocks: below glibc's mmap threshold, so they live on the heap and freeing them
    # leaves pages for malloc_trim to hand back (numpy's 256 KiB arrays were mmapped: nothing to trim).
    blocks = [ctypes.create_string_buffer(64 * 1024) for _ in range(256)]
    del blocks
    assert runtime.trim_heap() is on_glibc  # True: pages were released; False without glibc


def test_invalid_arena_count_is_refused() -> None:
    with pytest.raises(ValueError):
        runtime.limit_malloc_arenas(0)


@pytest.mark.skipif(not sys.platform.startswith("linux") or runtime._glibc() is None, reason="glibc only")
def test_trim_heap_returns_pages_to_the_kernel() -> None:
    import psutil

    process = psutil.Process()
    runtime.trim_heap()
    # Many mid-size blocks (below the mmap threshold, so they live on the heap), then free all but the last.
    blocks = [ctypes.create_string_buffer(64 * 1024) for _ in range(3000)]  # ~190 MB, touched (zeroed)
    keep = blocks[-1]
    del blocks
    before = process.memory_info().rss
    assert runtime.trim_heap() is True
    after = process.memory_info().rss
    assert before - after > 100 * 1024 * 1024, f"only {(before - after) / 1e6:.0f} MB returned"
    del keep


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (torch.cuda.OutOfMemoryError("CUDA out of memory"), True),
        (torch.OutOfMemoryError("out of memory"), True),
        (MemoryError(), True),
        (RuntimeError("CUDA error: device-side assert triggered"), False),
        (ValueError("bad image"), False),
    ],
)
def test_is_out_of_memory(error: BaseException, expected: bool) -> None:
    assert runtime.is_out_of_memory(error) is expected


def test_release_empties_the_cuda_cache_only_when_cuda_is_available(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: calls.append("empty_cache"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    runtime.release_accelerator_memory()
    assert calls == []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    runtime.release_accelerator_memory()
    assert calls == ["empty_cache"]


def test_importing_the_engine_sets_the_openmp_and_onednn_defaults_before_torch_starts_its_threads():
    # The values only take effect when set before torch's first import, so check a fresh interpreter; an
    # explicit setting wins.

    code = "import os, ocr_model; print(os.environ['OMP_WAIT_POLICY'], os.environ['GOMP_SPINCOUNT'], os.environ['LRU_CACHE_CAPACITY'])"
    env = {key: value for key, value in os.environ.items() if key not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "LRU_CACHE_CAPACITY")}
    defaults = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.split()
    assert defaults == ["PASSIVE", "10000", "16"]
    env["GOMP_SPINCOUNT"] = "0"
    chosen = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.split()
    assert chosen[1] == "0"


@pytest.mark.skipif(not sys.platform.startswith("linux") or runtime._glibc() is None, reason="glibc only")
def test_building_a_model_leaves_no_freed_heap_resident():
    """Loading the small checkpoint parses ONNX files; what it freed is handed back to the kernel before
    build_model returns (it was 51 MB of resident memory until the first request's trim)."""
    script = (
        "import ctypes, ocr_model\n"
        "from ocr_model.pipeline.predictor import build_model\n"
        "rss = lambda: int(open('/proc/self/status').read().split('VmRSS:')[1].split()[0]) / 1024\n"
        "model = build_model(checkpoint='ppocrv6-small', device='cpu', threads=1)\n"
        "before = rss(); ctypes.CDLL('libc.so.6').malloc_trim(0); after = rss()\n"
        "print(before - after)\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[2])
    assert completed.returncode == 0, completed.stderr[-2000:]
    released_by_a_later_trim = float(completed.stdout.strip().splitlines()[-1])
    assert released_by_a_later_trim < 10, f"{released_by_a_later_trim:.0f} MB of freed heap stayed resident after loading"
