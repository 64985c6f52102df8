"""The one place where the app talks to the OCR engine: loading and per-call options."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from ocr_model.types import Predictions

ORIENTATION_CHOICES = ("auto", "all", "off")
DEFAULT_DETECTION_SIZE = 1600


class OcrEngine(Protocol):
    device: Any

    def predict(self, image: np.ndarray, **options: Any) -> Predictions: ...


def load_engine(device: str = "auto") -> OcrEngine:
    """The shared `ocr_model` instance, loaded now (call at startup, not per request)."""
    from ocr_model import get_model
    from ocr_model.predictor import build_model

    if device == "auto":
        return get_model()  # the process-wide instance (CUDA when available, else CPU)
    return build_model(device=device)


def model_options(orientation: str, detection_size: int | float) -> dict[str, Any]:
    """Translate the UI's option widgets into `predict(**options)` keyword arguments."""
    if orientation not in ORIENTATION_CHOICES:
        raise ValueError(f"orientation must be one of {ORIENTATION_CHOICES}, got {orientation!r}")
    return {"orientation": orientation, "det_max_side": int(detection_size)}


def device_name(engine: OcrEngine) -> str:
    return str(getattr(engine, "device", "unknown"))
