"""Opt-in `torch.compile` of the recognizer (`OCR_COMPILE=1`): a faster steady state, a slower start.

Measured on the 2-core shared machine (Intel Xeon with AMX, bf16), 2026-12-02:
- the recognizer network, thread CPU, 1 thread, under load 7-15: 0.64x the eager time at 16x48x320 and
  6x48x800 (104 vs 162 ms, 101 vs 159 ms), 0.79x for one line; the detector did not gain (1.04-1.08x
  slower), so only the recognizer is compiled;
- the whole engine on the 19 sroie-dev receipts, interleaved with the eager engine in one process, thread
  CPU, 1 thread, load 7 -> 5: per-image ratio median 0.886 (0.972 vs 1.053 s), word F1 0.9236 vs 0.9245
  (bf16 rounding differs; 1 line of 62 on the first receipt reads differently);
- wall clock, 2 threads, nearly quiet (load 1.3 -> 1.5), bench_sroie at eb8679a: median 0.603 vs 0.808 s
  per receipt (0.75x), ratio to RapidOCR 0.44 vs 0.59, word F1 0.924 both, peak RSS 832 vs 651 MiB;
- the price: compiling at load took 150-180 s (two graphs, under load 8-15) with an empty inductor cache,
  21-40 s once inductor's on-disk cache held them; a checkpoint first loaded by a request compiles in it.
Both graphs (batch size 1 is specialised by dynamo; every size >= 2 and every width share the other) are
compiled here at load with float32 inputs like the pipeline's, so no request compiles (checked with
TORCH_LOGS=recompiles on 5 receipts).

`freezing` folds the weights into the compiled graph (oneDNN weight prepacking): later changes to the
module's parameters are not seen by the compiled one, so compile only networks that are done training.
"""

from __future__ import annotations

import logging
import os
import time

import torch
from torch import nn

COMPILE_ENV = "OCR_COMPILE"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}
# Batch sizes that get their own graph: dynamo specialises size 1, every size >= 2 shares one graph.
WARM_UP_BATCHES = (2, 1)
WARM_UP_WIDTH = 320

_LOG = logging.getLogger(__name__)


def compile_requested() -> bool:
    """Whether `OCR_COMPILE` asks for compiled networks (1/true/yes/on; unset, 0/false/no/off: no)."""
    value = os.environ.get(COMPILE_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{COMPILE_ENV} must be 1 or 0 (true/false, yes/no, on/off), got {value!r}")


def compile_recognizer(network: nn.Module, height: int = 48) -> nn.Module:
    """`torch.compile` (inductor, dynamic shapes, frozen weights) of an inference-ready recognizer, warmed
    up at every batch-size class so that no later call compiles. Returns the compiled module (its
    parameters are the original module's)."""
    compiled = torch.compile(network, dynamic=True, options={"freezing": True})
    parameter = next(network.parameters())
    with torch.inference_mode():
        for size in WARM_UP_BATCHES:
            started = time.perf_counter()
            # float32 like the pipeline's batches (the network casts to its own dtype): the input's dtype is
            # guarded, so a bf16 warm-up would leave the first request to compile again.
            compiled(torch.zeros((size, 3, height, WARM_UP_WIDTH), dtype=torch.float32, device=parameter.device))
            _LOG.info("compiled the recognizer for batch %s in %.1f s", size if size == 1 else f">= {size}", time.perf_counter() - started)
    return compiled
