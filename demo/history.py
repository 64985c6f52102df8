"""One OCR result as the app keeps it, and the bounded per-session history of results.

A result holds display-size data only: a JPEG of the downscaled image (no drawings), a
small thumbnail and the predictions (polygons in ORIGINAL image coordinates). Nothing
full-size is ever stored. A session's history is bounded twice: at most `capacity` entries
and at most `max_bytes` (`entry_bytes` of each, summed), the oldest dropped first; the
app makes each preview fit `max_bytes / capacity` (demo/handlers.py: `fit_preview`).

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


# Per line beyond its polygon and text: the Python objects that hold them (measured with
# tracemalloc over a 60-line result: ~330 bytes a line; rounded up).
_LINE_OVERHEAD_BYTES = 400


def entry_bytes(result: OcrResult) -> int:
    """Memory one history entry holds: its JPEGs, polygons and texts (an upper estimate)."""
    predictions = result.predictions
    polygons = sum(int(getattr(polygon, "nbytes", 64)) for polygon in predictions.polygons)
    texts = sum(len(text.encode("utf-8")) for text in predictions.texts)
    return (
        len(result.preview_jpeg)
        + len(result.thumbnail_jpeg)
        + polygons
        + texts
        + _LINE_OVERHEAD_BYTES * len(predictions.texts)
        + 1024
    )


def history_bytes(history: History) -> int:
    return sum(entry_bytes(entry) for entry in history)


def push(history: History, result: OcrResult, capacity: int, max_bytes: int | None = None) -> History:
    """A new history with `result` first, at most `capacity` entries and, when `max_bytes` is given,
    at most that many bytes (oldest dropped; the new result is always kept)."""
    if capacity < 1:
        raise ValueError(f"capacity must be >= 1, got {capacity}")
    if max_bytes is not None and max_bytes < 1:
        raise ValueError(f"max_bytes must be >= 1, got {max_bytes}")
    if not isinstance(result, OcrResult):
        raise ValueError(f"expected an OcrResult, got {type(result).__name__}")
    kept = [result]
    used = entry_bytes(result)
    for entry in tuple(history)[: capacity - 1]:
        size = entry_bytes(entry)
        if max_bytes is not None and used + size > max_bytes:
            break
        kept.append(entry)
        used += size
    return tuple(kept)


def get(history: History, index: int) -> OcrResult:
    """The entry at gallery position `index` (0 = newest), or ValueError if out of range."""
    if not 0 <= index < len(history):
        raise ValueError(f"history has {len(history)} entries, no entry {index}")
    return history[index]
