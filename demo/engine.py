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


def is_out_of_memory(error: BaseException) -> bool:
    """True when the engine ran the accelerator (or the host) out of memory. No torch import in demo/."""
    from ocr_model.memory import is_out_of_memory as engine_out_of_memory

    return engine_out_of_memory(error)


def release_memory() -> None:
    """Give cached accelerator memory back after an out-of-memory error (no-op work on CPU)."""
    from ocr_model.memory import release_accelerator_memory

    release_accelerator_memory()
