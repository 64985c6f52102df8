"""180° orientation check of text-line crops (PP-OCR's 0°/180° classifier)."""

from __future__ import annotations

import numpy as np
import torch

from .recognition import prepare_line_batch

CLASSIFIER_HEIGHT = 48
CLASSIFIER_WIDTH = 192
CLASSIFIER_BATCH = 32


@torch.inference_mode()
def upside_down_probabilities(network: torch.nn.Module, crops: list[np.ndarray]) -> list[float]:
    """Probability that each crop (RGB uint8, horizontal) is rotated by 180°."""
    if not crops:
        return []
    device = next(network.parameters(), torch.empty(0)).device
    result: list[float] = []
    for start in range(0, len(crops), CLASSIFIER_BATCH):
        chunk = crops[start : start + CLASSIFIER_BATCH]
        batch = prepare_line_batch(chunk, CLASSIFIER_HEIGHT, CLASSIFIER_WIDTH).to(device)
        probabilities = network(batch)
        if probabilities.ndim != 2 or probabilities.shape[1] != 2:
            raise RuntimeError(f"orientation network returned shape {tuple(probabilities.shape)}, expected (N, 2)")
        result.extend(probabilities[:, 1].float().cpu().tolist())
    return result


def rotate_180(crop: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(crop[::-1, ::-1])
