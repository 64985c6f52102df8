"""PP-OCRv6 (small) text detection + recognition in PyTorch.

    from ocr_model import get_model
    predictions = get_model().predict(rgb_uint8_array)
"""

import os

# OpenMP worker threads that spin while waiting steal the CPU from everything else on a shared
# machine (a Space, a laptop, CI): measured at 2 threads on a busy box, recognition 1x320 took
# 1299 ms spinning vs 225 ms passive. It only takes effect if set before torch is first imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# ...but a worker that sleeps at once after each operator is woken for the next one a few microseconds later,
# and the networks run hundreds of short operators per call: GNU OpenMP's GOMP_SPINCOUNT (which wins over
# the policy) lets it spin ~0.1 ms first. Measured 2026-12-03 on sroie-dev (19 receipts, small, bf16, 2
# threads, one process per setting, run twice): quiet, 15.1-15.3 s -> 12.5-12.8 s (-17 %) for the same
# process CPU time (20.2-20.7 s vs 20.5-20.9 s); beside two busy-looping processes (6 receipts),
# 11.4-11.7 s -> 9.5-10.0 s for 15 % more CPU time. 100000 (~1 ms) was no faster and took 20 % more CPU.
os.environ.setdefault("GOMP_SPINCOUNT", "10000")
# oneDNN keeps every convolution primitive it creates (one per layer and input shape; default 1024 of them)
# and PyTorch's ideep layer keeps its own cache of 1024 entries; with a new shape per image and per
# recognition batch, both fill with shapes that never come back. Measured 2026-12-02 on sroie-dev
# (bench/bench_sroie.py, bf16 on this machine's AVX512-BF16/AMX, load 6-12): engine peak RSS 1000 MiB with
# the defaults, 762 with ONEDNN_PRIMITIVE_CACHE_CAPACITY=64, 649 with LRU_CACHE_CAPACITY=16 as well; word
# F1 0.925 in all three. Thread CPU time over the 16 small receipts, second pass, 1 thread: 18.3-20.7 s
# with the defaults, 17.8 s with both caps (creating a primitive is cheap next to running it).
# Read when the first primitive is created, so setting them before the first network call is enough.
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "64")
os.environ.setdefault("LRU_CACHE_CAPACITY", "16")

from .config import OcrConfig
from .pipeline.predictor import OcrModel, get_model
from .types import Predictions, Word

__all__ = ["OcrConfig", "OcrModel", "Predictions", "Word", "get_model"]
