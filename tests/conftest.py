"""Shared test helpers for the demo app: a fake OCR engine and a free loopback port."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ocr_model.types import Predictions

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = REPO_ROOT / "assets"


class FakeEngine:
    """Stands in for `ocr_model.get_model()` in unit tests: two boxes at fixed fractions
    of the image (so their pixel coordinates depend on the image size), and a call log."""

    device = "fake-cpu"

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def predict(self, image: np.ndarray, **options: Any) -> Predictions:
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError("expected an HxWx3 uint8 image")
        height, width = image.shape[:2]
        self.calls.append({"shape": image.shape, "options": dict(options)})

        def box(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
            return np.array(
                [[x0 * width, y0 * height], [x1 * width, y0 * height], [x1 * width, y1 * height], [x0 * width, y1 * height]],
                dtype=np.float32,
            )

        return Predictions(
            polygons=[box(0.1, 0.1, 0.63, 0.2), box(0.13, 0.41, 0.87, 0.53)],
            texts=["HELLO", "WORLD"],
            confidences=[0.95, 0.6],
            image_size=(height, width),
            timings={"detection": 0.01, "recognition": 0.02},
            device=self.device,
        )


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
