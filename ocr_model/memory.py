"""Out-of-memory helpers for callers that must not import torch themselves (the Gradio app).

A request that runs the accelerator out of memory must end with a message to that user while the
server keeps serving: the caller catches the error with `is_out_of_memory`, leaves its `except` block
(the traceback pins the frames and the tensors they hold), drops its own references, and then calls
`release_accelerator_memory` so the next request starts from a clean cache.
"""

from __future__ import annotations

import gc

import torch


def is_out_of_memory(error: BaseException) -> bool:
    """True for torch's out-of-memory error (CUDA or other accelerators) and Python's MemoryError."""
    return isinstance(error, (torch.OutOfMemoryError, MemoryError))


def release_accelerator_memory() -> None:
    """Collect garbage and return cached accelerator blocks to the driver. Safe to call on CPU."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
