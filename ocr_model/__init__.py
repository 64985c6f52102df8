"""PP-OCRv6 (small) text detection + recognition in PyTorch.

    from ocr_model import get_model
    predictions = get_model().predict(rgb_uint8_array)
"""

import os

# OpenMP worker threads that spin while waiting steal the CPU from everything else on a shared
# machine (a Space, a laptop, CI): measured at 2 threads on a busy box, recognition 1x320 took
# 1299 ms spinning vs 225 ms passive. It only takes effect if set before torch is first imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .config import OcrConfig
from .pipeline.predictor import OcrModel, get_model
from .types import Predictions, Word

__all__ = ["OcrConfig", "OcrModel", "Predictions", "Word", "get_model"]
