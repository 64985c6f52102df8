"""The one place where the app talks to the OCR engine: loading and per-call options."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from ocr_model.types import Predictions

ORIENTATION_CHOICES = ("auto", "all", "off")
# Page rotation choices of the "Orientation" option: (label, value); the value is the engine's
# `page_rotation` (clockwise degrees applied before reading, or "auto").
PAGE_ROTATION_CHOICES = (
    ("auto", "auto"),
    ("as uploaded", "0"),
    ("turn 90° clockwise", "90"),
    ("turn 180°", "180"),
    ("turn 90° counter-clockwise", "270"),
)
DEFAULT_DETECTION_SIZE = 1600


class OcrEngine(Protocol):
    device: Any

    def predict(self, image: np.ndarray, **options: Any) -> Predictions: ...


def load_engine(device: str = "auto") -> OcrEngine:
    """The shared `ocr_model` instance, loaded now (call at startup, not per request)."""
    from ocr_model import get_model
    from ocr_model.pipeline.predictor import build_model

    if device == "auto":
        return get_model()  # the process-wide instance (CUDA when available, else CPU)
    return build_model(device=device)


def model_options(orientation: str, detection_size: int | float, page_rotation: str = "auto") -> dict[str, Any]:
    """Translate the UI's option widgets into `predict(**options)` keyword arguments."""
    if orientation not in ORIENTATION_CHOICES:
        raise ValueError(f"orientation must be one of {ORIENTATION_CHOICES}, got {orientation!r}")
    rotations = {value for _, value in PAGE_ROTATION_CHOICES}
    if page_rotation not in rotations:
        raise ValueError(f"page rotation must be one of {sorted(rotations)}, got {page_rotation!r}")
    options: dict[str, Any] = {"orientation": orientation, "det_max_side": int(detection_size)}
    if page_rotation != "auto":
        options["page_rotation"] = int(page_rotation)
    return options


def device_name(engine: OcrEngine) -> str:
    return str(getattr(engine, "device", "unknown"))


def is_out_of_memory(error: BaseException) -> bool:
    """True when the engine ran the accelerator (or the host) out of memory. No torch import in demo/."""
    from ocr_model.runtime import is_out_of_memory as engine_out_of_memory

    return engine_out_of_memory(error)


def release_memory() -> None:
    """Give cached accelerator memory back after an out-of-memory error (no-op work on CPU)."""
    from ocr_model.runtime import release_accelerator_memory

    release_accelerator_memory()
