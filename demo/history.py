"""One OCR result as the app keeps it, and the bounded per-session history of results.

A result holds display-size data only: a JPEG of the downscaled image (no drawings), a
small thumbnail and the predictions (polygons in ORIGINAL image coordinates). Nothing
full-size is ever stored, so a session's memory is bounded by
`max_results_in_memory x (display JPEG + thumbnail + predictions)`.

History is an immutable tuple, newest first; `push` returns a new tuple.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ocr_model.types import Predictions

from demo.render import DisplayTransform

History = tuple["OcrResult", ...]


@dataclass(frozen=True)
class OcrResult:
    name: str  # file name shown in captions and the JSON
    preview_jpeg: bytes  # the display-size copy, without drawings
    thumbnail_jpeg: bytes  # for the history gallery
    transform: DisplayTransform  # original <-> display coordinates
    predictions: Predictions  # polygons in original image coordinates
    note: str | None = None  # e.g. "animated GIF: first of 5 frames used"
    options: tuple[tuple[str, object], ...] = field(default_factory=tuple)  # model options used
    elapsed_s: float = 0.0  # wall time of decode + predict + preview


def push(history: History, result: OcrResult, capacity: int) -> History:
    """A new history with `result` first and at most `capacity` entries (oldest dropped)."""
    if capacity < 1:
        raise ValueError(f"capacity must be >= 1, got {capacity}")
    if not isinstance(result, OcrResult):
        raise ValueError(f"expected an OcrResult, got {type(result).__name__}")
    return (result,) + tuple(history)[: capacity - 1]


def get(history: History, index: int) -> OcrResult:
    """The entry at gallery position `index` (0 = newest), or ValueError if out of range."""
    if not 0 <= index < len(history):
        raise ValueError(f"history has {len(history)} entries, no entry {index}")
    return history[index]
