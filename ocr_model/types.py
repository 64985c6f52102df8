"""The engine's output type: what `OcrModel.predict` returns for one image."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


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

    def __post_init__(self) -> None:
        if not (len(self.polygons) == len(self.texts) == len(self.confidences)):
            raise ValueError(
                f"polygons, texts and confidences must have the same length, got "
                f"{len(self.polygons)}, {len(self.texts)}, {len(self.confidences)}"
            )

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def full_text(self) -> str:
        return "\n".join(self.texts)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict (plain lists and floats)."""
        return {
            "image_size": {"height": int(self.image_size[0]), "width": int(self.image_size[1])},
            "device": self.device,
            "timings": {name: round(float(seconds), 6) for name, seconds in self.timings.items()},
            "lines": [
                {
                    "text": text,
                    "confidence": round(float(confidence), 6),
                    "polygon": np.asarray(polygon, dtype=np.float64).round(2).tolist(),
                }
                for polygon, text, confidence in zip(self.polygons, self.texts, self.confidences)
            ],
        }
