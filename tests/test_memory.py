"""Tests for ocr_model/memory.py: out-of-memory detection and cache release."""

from __future__ import annotations

import pytest
import torch

from ocr_model import memory


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
    assert memory.is_out_of_memory(error) is expected


def test_release_empties_the_cuda_cache_only_when_cuda_is_available(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(memory.torch.cuda, "empty_cache", lambda: calls.append("empty_cache"))
    monkeypatch.setattr(memory.torch.cuda, "is_available", lambda: False)
    memory.release_accelerator_memory()
    assert calls == []
    monkeypatch.setattr(memory.torch.cuda, "is_available", lambda: True)
    memory.release_accelerator_memory()
    assert calls == ["empty_cache"]
