"""Reading order of detected lines: top-to-bottom rows, left-to-right inside a row."""

from __future__ import annotations

import numpy as np

# Two boxes are on the same row when their vertical overlap is at least this fraction
# of the shorter box's height.
SAME_ROW_OVERLAP = 0.5


def reading_order(polygons: list[np.ndarray]) -> list[int]:
    """Indices of `polygons` in reading order.

    Boxes are taken by their top edge; each box joins the current row if it overlaps the
    row's vertical span enough, otherwise it starts a new row. Rows are read left to right.
    """
    if not polygons:
        return []
    tops = np.array([float(np.min(polygon[:, 1])) for polygon in polygons])
    bottoms = np.array([float(np.max(polygon[:, 1])) for polygon in polygons])
    lefts = np.array([float(np.min(polygon[:, 0])) for polygon in polygons])
    centers = (tops + bottoms) / 2

    rows: list[list[int]] = []
    row_top = row_bottom = 0.0
    for index in np.argsort(centers, kind="stable").tolist():
        height = bottoms[index] - tops[index]
        if rows:
            overlap = min(row_bottom, bottoms[index]) - max(row_top, tops[index])
            shorter = max(min(height, row_bottom - row_top), 1e-6)
            if overlap >= SAME_ROW_OVERLAP * shorter:
                rows[-1].append(index)
                continue
        rows.append([index])
        row_top, row_bottom = tops[index], bottoms[index]

    return [index for row in rows for index in sorted(row, key=lambda i: lefts[i])]


def reading_order_of_upside_down_page(polygons: list[np.ndarray], width: int, height: int) -> list[int]:
    """Reading order for a page turned by 180°: rows bottom to top, right to left in the image."""
    page_corner = np.array([width, height], dtype=np.float64)
    return reading_order([page_corner - np.asarray(polygon, dtype=np.float64) for polygon in polygons])
