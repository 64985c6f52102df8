"""Page orientation: which of 0°, 90°, 180° or 270° makes a page upright.

`choose_rotation` decides from lines already detected on the page as it was passed in:
1. the direction of the lines (weighted by length) says whether text runs across the image
   (0° or 180°) or up/down it (90° or 270°);
2. the longest lines of that direction are read both ways up (one recognizer batch) and the
   way with the higher mean confidence wins; turning a page by 180° must win by
   `page_rotation_margin`, so upright pages are not turned on a close call.

Rotations are clockwise degrees applied to the image as passed in. `rotate_image` turns an
image, `rotate_points_back` maps points found in the turned image back into the pixels of
the image as passed in (continuous coordinates: pixel edges at integers).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .crops import crop_quad
from .line_orientation import rotate_180

ROTATIONS = (0, 90, 180, 270)
# A line counts as running along one axis when its long side is this many times its short one.
LINE_ASPECT = 1.5


def rotate_image(image: np.ndarray, rotation: int) -> np.ndarray:
    """`image` turned clockwise by `rotation` degrees (0, 90, 180, 270), C-contiguous."""
    if rotation not in ROTATIONS:
        raise ValueError(f"rotation must be one of {ROTATIONS}, got {rotation!r}")
    if rotation == 0:
        return image
    return np.ascontiguousarray(np.rot90(image, k=-(rotation // 90)))


def rotate_points_back(points: np.ndarray, rotation: int, original_size: tuple[int, int]) -> np.ndarray:
    """Points (..., 2) in the image turned by `rotation` -> the image as passed in.

    `original_size` is (height, width) of the image as passed in.
    """
    height, width = original_size
    points = np.asarray(points, dtype=np.float64)
    u, v = points[..., 0], points[..., 1]
    if rotation == 0:
        x, y = u, v
    elif rotation == 90:  # clockwise: original (x, y) -> (height - y, x)
        x, y = v, height - u
    elif rotation == 180:
        x, y = width - u, height - v
    elif rotation == 270:  # original (x, y) -> (y, width - x)
        x, y = width - v, u
    else:
        raise ValueError(f"rotation must be one of {ROTATIONS}, got {rotation!r}")
    return np.stack([x, y], axis=-1).astype(np.float32)


def line_geometry(polygon: np.ndarray) -> tuple[float, bool] | None:
    """(long side / short side, whether the long side runs up/down the image) of a line's
    quad, or None for square-ish boxes (single characters, digits), which say nothing."""
    quad = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)[:4]
    top, bottom = quad[1] - quad[0], quad[2] - quad[3]
    left, right = quad[3] - quad[0], quad[2] - quad[1]
    width = (np.linalg.norm(top) + np.linalg.norm(bottom)) / 2
    height = (np.linalg.norm(left) + np.linalg.norm(right)) / 2
    long_side, short_side = max(width, height), max(min(width, height), 1e-6)
    if long_side < LINE_ASPECT * short_side:
        return None
    along = top + bottom if width >= height else left + right
    return long_side / short_side, bool(abs(along[1]) > abs(along[0]))


def line_axes(polygons: Sequence[np.ndarray]) -> tuple[float, float]:
    """(weight of lines running across the image, weight of lines running up/down it).

    Each line weighs its aspect ratio (about its number of characters); square-ish boxes
    are not counted.
    """
    across = upright = 0.0
    for polygon in polygons:
        geometry = line_geometry(polygon)
        if geometry is None:
            continue
        if geometry[1]:
            upright += geometry[0]
        else:
            across += geometry[0]
    return across, upright


def choose_rotation(
    image: np.ndarray,
    polygons: Sequence[np.ndarray],
    read: Callable[[list[np.ndarray]], Sequence[object]],
    *,
    sample_lines: int = 8,
    margin: float = 0.05,
    padding: float = 0.0,
    readings: Sequence[object] | None = None,
) -> int:
    """Clockwise degrees (0, 90, 180, 270) that make the page upright.

    `polygons` are the lines detected on `image` as passed in; `read` returns one reading
    (with a `.confidence`) per crop. `margin`: how much more confident the 180°-turned reads
    must be, on average, before a page whose lines run across is turned (lines running up
    or down have no preferred side, so there the better side wins). `readings`: the lines
    already read as cut (one per polygon, crops made with `padding`), reused for lines across
    instead of reading them again.
    """
    across, upright = line_axes(polygons)
    if across == 0 and upright == 0:
        return 0
    vertical = upright > across
    candidates = []
    for index, polygon in enumerate(polygons):
        geometry = line_geometry(polygon)
        if geometry is not None and geometry[1] == vertical:
            candidates.append((geometry[0], index))
    # The longest lines (by aspect ratio: many characters) carry the clearest signal.
    candidates.sort(key=lambda item: -item[0])
    chosen_indices = [index for _, index in candidates[:sample_lines]]
    chosen = [polygons[index] for index in chosen_indices]
    if not chosen:
        return 0
    if not vertical and readings is not None:
        # Confidences are at most 1: once the lines as cut read at >= 1 - margin, the turned
        # reads cannot win by the margin, so they are skipped (same answer, half the work), and so
        # are the crops (upright pages, the common case, pay nothing more here).
        as_cut = float(np.mean([readings[i].confidence for i in chosen_indices]))
        if as_cut + margin >= 1.0:
            return 0
    crops = [crop_quad(image, polygon, padding) for polygon in chosen]
    # crop_quad turns tall crops counter-clockwise, which is upright for a page turned
    # clockwise by 90° (text running downwards): the page then needs 270° clockwise.
    if vertical:
        crops = [crop if crop.shape[1] >= crop.shape[0] else np.ascontiguousarray(np.rot90(crop)) for crop in crops]
    if not vertical:
        if readings is None:
            as_cut = float(np.mean([reading.confidence for reading in read(crops)]))
            if as_cut + margin >= 1.0:
                return 0
        turned = float(np.mean([reading.confidence for reading in read([rotate_180(crop) for crop in crops])]))
        return 180 if turned > as_cut + margin else 0
    readings = read(crops + [rotate_180(crop) for crop in crops])
    as_cut = float(np.mean([reading.confidence for reading in readings[: len(crops)]]))
    turned = float(np.mean([reading.confidence for reading in readings[len(crops) :]]))
    if vertical:
        return 90 if turned > as_cut else 270
    return 180 if turned > as_cut + margin else 0


def rotate_predictions_back(predictions: "Predictions", rotation: int, original_size: tuple[int, int]) -> "Predictions":
    """Predictions made on the image turned by `rotation` -> polygons (lines and words) in the
    pixels of the image as passed in (size `original_size`, (height, width)); the point order
    (clockwise from each line's top-left as it reads) is kept."""
    from dataclasses import replace

    from ..types import Word

    return replace(
        predictions,
        polygons=[rotate_points_back(polygon, rotation, original_size) for polygon in predictions.polygons],
        words=[
            tuple(Word(word.text, rotate_points_back(word.polygon, rotation, original_size), word.confidence) for word in line)
            for line in predictions.words
        ],
        image_size=original_size,
        rotation=rotation,
    )
