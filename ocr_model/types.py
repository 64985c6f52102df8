"""The engine's output type: what `OcrModel.predict` returns for one image."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Word:
    """One word of a line: its own polygon (4x2 float32, original image pixels, clockwise
    from the word's top-left as it reads) and the mean probability of its characters."""

    text: str
    polygon: np.ndarray
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "confidence": round(float(self.confidence), 6),
            "polygon": np.asarray(self.polygon, dtype=np.float64).round(2).tolist(),
        }


@dataclass(frozen=True)
class Predictions:
    """Text lines found in one image, in reading order.

    Polygons are in the pixel coordinates of the ORIGINAL image that was passed to
    `predict` (x to the right, y down), whatever resizing happened inside the engine.
    """

    polygons: list[np.ndarray]  # each (K, 2) float32, K >= 4, clockwise from top-left
    texts: list[str]  # NFKC-normalized, same order as polygons
    confidences: list[float]  # in [0, 1], same order
    image_size: tuple[int, int] = (0, 0)  # (height, width) of the original image
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, e.g. {"detection": 0.12}
    device: str = "cpu"
    # Words of each line (same order as texts), or empty when the engine gave none.
    words: list[tuple[Word, ...]] = field(default_factory=list)
    # Degrees (0, 90, 180, 270) the image was turned clockwise to read it upright; the
    # polygons above are still in the pixels of the image as it was passed in.
    rotation: int = 0
    # Name of the checkpoint (networks) that read the image; "" for engines built without one.
    checkpoint: str = ""

    def __post_init__(self) -> None:
        if not (len(self.polygons) == len(self.texts) == len(self.confidences)):
            raise ValueError(
                f"polygons, texts and confidences must have the same length, got "
                f"{len(self.polygons)}, {len(self.texts)}, {len(self.confidences)}"
            )
        if self.words and len(self.words) != len(self.texts):
            raise ValueError(f"words must be empty or one entry per line, got {len(self.words)} for {len(self.texts)}")
        if self.rotation not in (0, 90, 180, 270):
            raise ValueError(f"rotation must be 0, 90, 180 or 270, got {self.rotation!r}")

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def full_text(self) -> str:
        return "\n".join(self.texts)

    @property
    def layout_text(self) -> str:
        """The lines as rows of text spaced as on the page (see `ocr_model.exporters.layout`)."""
        from .exporters.layout import layout_text

        return layout_text(self.polygons, self.texts)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict (plain lists and floats)."""
        return {
            "image_size": {"height": int(self.image_size[0]), "width": int(self.image_size[1])},
            "device": self.device,
            "checkpoint": self.checkpoint,
            "timings": {name: round(float(seconds), 6) for name, seconds in self.timings.items()},
            "rotation": int(self.rotation),
            "lines": [
                {
                    "text": text,
                    "confidence": round(float(confidence), 6),
                    "polygon": np.asarray(polygon, dtype=np.float64).round(2).tolist(),
                    "words": [word.to_dict() for word in self.line_words(index)],
                }
                for index, (polygon, text, confidence) in enumerate(zip(self.polygons, self.texts, self.confidences))
            ],
        }

    def line_words(self, index: int) -> tuple[Word, ...]:
        """The words of line `index` (empty when the engine gave none)."""
        return self.words[index] if self.words else ()
