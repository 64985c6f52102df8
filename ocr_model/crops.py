"""Cut text lines out of the original uint8 image with a perspective warp."""

from __future__ import annotations

import cv2
import numpy as np

# A crop this many times taller than wide is taken as vertical text and turned 90°
# counter-clockwise so the recognizer reads it left to right.
VERTICAL_ASPECT = 1.5


def pad_quad(quad: np.ndarray, padding: float) -> np.ndarray:
    """Grow a clockwise quad by `padding` x its height on every side (0 = unchanged)."""
    if padding <= 0:
        return quad
    top_left, top_right, bottom_right, bottom_left = quad.astype(np.float64)
    along = (top_right - top_left) + (bottom_right - bottom_left)
    across = (bottom_left - top_left) + (bottom_right - top_right)
    along_unit = along / max(np.linalg.norm(along), 1e-6)
    across_unit = across / max(np.linalg.norm(across), 1e-6)
    height = (np.linalg.norm(bottom_left - top_left) + np.linalg.norm(bottom_right - top_right)) / 2
    dx, dy = along_unit * padding * height, across_unit * padding * height
    grown = np.stack([top_left - dx - dy, top_right + dx - dy, bottom_right + dx + dy, bottom_left - dx + dy])
    return grown.astype(np.float32)


def crop_quad(image: np.ndarray, quad: np.ndarray, padding: float = 0.0) -> np.ndarray:
    """Rectified crop of a clockwise quad (TL, TR, BR, BL) from `image` (any HxWxC uint8).

    Only the crop is computed (the warp reads the source where it needs to), so cropping
    from a 35 MP image does not copy it. Vertical crops are rotated to horizontal.
    """
    quad = pad_quad(np.asarray(quad, dtype=np.float32).reshape(4, 2), padding)
    width = int(round(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[3] - quad[2]))))
    height = int(round(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2]))))
    width, height = max(width, 1), max(height, 1)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    transform = cv2.getPerspectiveTransform(quad, target)
    crop = cv2.warpPerspective(
        image, transform, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    if height >= VERTICAL_ASPECT * width:
        crop = np.ascontiguousarray(np.rot90(crop))
    return crop
