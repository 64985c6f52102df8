"""Reading order of detected lines: top-to-bottom rows, left-to-right inside a row."""

from __future__ import annotations

import numpy as np

from ..config import SAME_ROW_OVERLAP


def reading_order(polygons: list[np.ndarray]) -> list[int]:
    """Indices of `polygons` in reading order: `reading_rows` top to bottom, each left to right."""
    return [index for row in reading_rows(polygons) for index in row]


def reading_rows(polygons: list[np.ndarray]) -> list[list[int]]:
    """Rows of the reading order: boxes taken by their vertical centre, image axes as they are; each box
    joins the current row if it overlaps that row's first box enough (SAME_ROW_OVERLAP), otherwise it
    starts a new row. Each row's indices go left to right.

    Why exporters.layout.layout_rows is another rule: this one fixes the order of every result (and so
    the line numbers users see), and is kept as it is; the layout text only spaces a page's rows, after
    turning the page by its reading angle, and lets a line join the best of the last few rows, so a
    skewed photo's item and price share a row of text. Both use SAME_ROW_OVERLAP."""
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

    return [sorted(row, key=lambda i: lefts[i]) for row in rows]


def reading_order_of_upside_down_page(polygons: list[np.ndarray], width: int, height: int) -> list[int]:
    """Reading order for a page turned by 180°: rows bottom to top, right to left in the image."""
    page_corner = np.array([width, height], dtype=np.float64)
    return reading_order([page_corner - np.asarray(polygon, dtype=np.float64) for polygon in polygons])
