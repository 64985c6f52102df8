"""180° orientation check of text-line crops (PP-OCR's 0°/180° classifier)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .lines import LineSource, as_line_source, pad_rows

CLASSIFIER_HEIGHT = 48
CLASSIFIER_WIDTH = 192
CLASSIFIER_BATCH = 32


@torch.inference_mode()
def upside_down_probabilities(
    network: torch.nn.Module, crops: LineSource | Sequence[np.ndarray], batch_buckets: Sequence[int] = ()
) -> list[float]:
    """Probability that each line (RGB uint8 crop or a `LineSource` line, horizontal) is rotated
    by 180°. The network gives [0°, 180°] logits. `batch_buckets`: batch sizes to pad to (see recognition.recognize_lines)."""
    lines = as_line_source(crops)
    if not len(lines):
        return []
    device = next(network.parameters(), torch.empty(0)).device
    chunks = []
    for start in range(0, len(lines), CLASSIFIER_BATCH):
        indices = list(range(start, min(len(lines), start + CLASSIFIER_BATCH)))
        batch = pad_rows(lines.batch(indices, CLASSIFIER_HEIGHT, CLASSIFIER_WIDTH, device), batch_buckets)
        logits = network(batch)[: len(indices)]
        if logits.ndim != 2 or logits.shape[1] != 2:
            raise RuntimeError(f"orientation network returned shape {tuple(logits.shape)}, expected (N, 2)")
        chunks.append(torch.softmax(logits.float(), dim=1)[:, 1])
    return torch.cat(chunks).cpu().tolist()  # one device -> host copy


def rotate_180(crop: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(crop[::-1, ::-1])
