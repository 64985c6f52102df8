"""PP-OCRv6 (small) text detection + recognition in PyTorch.

    from ocr_model import get_model
    predictions = get_model().predict(rgb_uint8_array)
"""

from .config import OcrConfig
from .predictor import OcrModel, get_model
from .types import Predictions

__all__ = ["OcrConfig", "OcrModel", "Predictions", "get_model"]
