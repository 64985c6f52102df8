"""Reference runtime (onnxruntime, test-only) and inputs shared by the network tests."""

from __future__ import annotations

import numpy as np
import pytest


def onnx_session(path):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is the test-only reference runtime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def random_images(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1.0, 1.0, shape).astype(np.float32)


def document_like_images(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Light page with dark text-like strokes, normalised like the pipeline does ([-1, 1])."""
    rng = np.random.default_rng(seed)
    batch, _, height, width = shape
    pixels = np.full((batch, height, width, 3), 235.0, dtype=np.float32)
    pixels += rng.normal(0.0, 6.0, pixels.shape).astype(np.float32)
    for image in pixels:
        for _ in range(max(2, height // 24)):
            top = int(rng.integers(0, max(1, height - 12)))
            line_height = int(rng.integers(6, 14))
            left = int(rng.integers(0, max(1, width // 3)))
            right = int(rng.integers(left + 1, width + 1))
            for x in range(left, right, int(rng.integers(3, 8))):
                image[top : top + line_height, x : x + 2] = rng.uniform(10, 80)
    pixels = np.clip(pixels, 0, 255)
    return ((pixels / 255.0 - 0.5) / 0.5).transpose(0, 3, 1, 2).copy()
