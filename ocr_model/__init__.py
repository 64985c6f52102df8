"""PP-OCRv6 (small) text detection + recognition in PyTorch.

    from ocr_model import get_model
    predictions = get_model().predict(rgb_uint8_array)
"""

import os

# OpenMP worker threads that spin while waiting steal the CPU from everything else on a shared
# machine (a Space, a laptop, CI): measured at 2 threads on a busy box, recognition 1x320 took
# 1299 ms spinning vs 225 ms passive. It only takes effect if set before torch is first imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
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
