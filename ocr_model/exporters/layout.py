"""Layout text: the lines of a page as rows of text, spaced as on the page.

Lines on the same visual row are joined left to right (a receipt's item and its price end
up on one line of text), with a number of spaces that follows their horizontal distance;
rows go top to bottom, and a blank line marks a wide vertical gap (a new block). Pure
functions over polygons and texts, so they work on any `Predictions` (or its JSON).

Skew and page rotation: the reading direction is estimated from the lines' own polygons
(their points go clockwise from each line's top-left as it reads), and the layout is built
in a frame turned so that this direction points right. A slightly skewed photo, or a page
read sideways (`Predictions.rotation`), therefore lays out like an upright scan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..config import SAME_ROW_OVERLAP  # here measured in the de-skewed frame
# A vertical gap between rows of more than this many median line heights starts a new block
# (one blank line).
BLOCK_GAP = 1.2
# Longest row of text produced, in characters (a very wide page with tiny text would
# otherwise give thousands of spaces).
MAX_COLUMNS = 400


@dataclass(frozen=True)
class LineBox:
    """One line in the de-skewed frame: extent, and its text."""

    index: int
    left: float
    right: float
    top: float
    bottom: float
    text: str

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 1e-6)


def reading_angle(polygons: Sequence[np.ndarray]) -> float:
    """Angle (radians, image coordinates: y down) of the page's reading direction, from the
    lines' top and bottom edges weighted by their length. 0 for an upright page."""
    total = np.zeros(2)
    for polygon in polygons:
        points = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
        if len(points) < 4:
            continue
        # for K > 4 points, the first and last quarter of the outline still run along the line
        quarter = len(points) // 4
        top = points[quarter] - points[0] if len(points) > 4 else points[1] - points[0]
        bottom = points[-quarter - 1] - points[-1] if len(points) > 4 else points[2] - points[3]
        total += top + bottom
    if not np.any(total):
        return 0.0
    return math.atan2(total[1], total[0])


def line_boxes(polygons: Sequence[np.ndarray], texts: Sequence[str]) -> list[LineBox]:
    """Each line's extent in the frame turned so that the reading direction points right."""
    angle = reading_angle(polygons)
    cos, sin = math.cos(-angle), math.sin(-angle)
    rotation = np.array([[cos, -sin], [sin, cos]])
    boxes = []
    for index, (polygon, text) in enumerate(zip(polygons, texts)):
        points = np.asarray(polygon, dtype=np.float64).reshape(-1, 2) @ rotation.T
        boxes.append(
            LineBox(index, float(points[:, 0].min()), float(points[:, 0].max()), float(points[:, 1].min()), float(points[:, 1].max()), text)
        )
    return boxes


def layout_rows(boxes: Sequence[LineBox]) -> list[list[LineBox]]:
    """Lines grouped into visual rows (top to bottom), each row left to right, for the layout text: a line
    joins the best-overlapping of the last three rows (running mean span). Not the rule of the results'
    order (pipeline.reading_order.reading_rows, which says why there are two)."""
    rows: list[list[LineBox]] = []
    spans: list[tuple[float, float]] = []  # mean top / bottom of each row
    for box in sorted(boxes, key=lambda b: (b.top + b.bottom) / 2):
        best, best_overlap = None, 0.0
        for number in range(max(0, len(rows) - 3), len(rows)):  # only the last few rows can take it
            top, bottom = spans[number]
            overlap = min(bottom, box.bottom) - max(top, box.top)
            shorter = max(min(box.height, bottom - top), 1e-6)
            if overlap >= SAME_ROW_OVERLAP * shorter and overlap / shorter > best_overlap:
                best, best_overlap = number, overlap / shorter
        if best is None:
            rows.append([box])
            spans.append((box.top, box.bottom))
        else:
            rows[best].append(box)
            count = len(rows[best])
            top, bottom = spans[best]
            spans[best] = (top + (box.top - top) / count, bottom + (box.bottom - bottom) / count)
    return [sorted(row, key=lambda b: b.left) for row in rows]


Span = tuple[int, int]  # [start, end) character offsets in a layout text


def layout_text(polygons: Sequence[np.ndarray], texts: Sequence[str]) -> str:
    """The page as text: rows top to bottom, lines of a row left to right at columns that follow
    their position (one character = the page's median character width), at least one space
    apart; a blank line where rows are far apart."""
    return layout_text_and_spans(polygons, texts)[0]


def layout_text_and_spans(polygons: Sequence[np.ndarray], texts: Sequence[str]) -> tuple[str, list[Span | None]]:
    """`layout_text`, and where each line went in it: per line, in the order given, its span
    [start, end) in the text, so that `text[start:end] == texts[i].strip()`; None for a blank line
    (not placed). Offsets count characters (Python string indices), not bytes.

    The spans are the only reliable way back from a line to its place: the same text ("1.00", "RM")
    occurs many times on a receipt, so searching the layout for a line's text finds the wrong one."""
    spans: list[Span | None] = [None] * len(texts)
    boxes = [box for box in line_boxes(polygons, texts) if box.text.strip()]
    if not boxes:
        return "", spans
    widths = [(box.right - box.left) / len(box.text) for box in boxes if len(box.text) >= 2]
    char_width = float(np.median(widths)) if widths else float(np.median([box.right - box.left for box in boxes]))
    left_edge = min(box.left for box in boxes)
    page_width = max(box.right for box in boxes) - left_edge
    char_width = max(char_width, page_width / MAX_COLUMNS, 1e-6)
    heights = float(np.median([box.height for box in boxes]))

    out: list[str] = []
    row_start = 0  # offset of the row being built in the joined text
    previous_bottom: float | None = None
    for row in layout_rows(boxes):
        top = min(box.top for box in row)
        if previous_bottom is not None and top - previous_bottom > BLOCK_GAP * heights:
            out.append("")
            row_start += 1
        previous_bottom = max(box.bottom for box in row)
        text = ""
        for box in row:
            column = int(round((box.left - left_edge) / char_width))
            gap = column - len(text)
            text += " " * (max(gap, 1) if text else max(gap, 0))
            placed = box.text.strip()
            spans[box.index] = (row_start + len(text), row_start + len(text) + len(placed))
            text += placed
        out.append(text)  # ends with a stripped, non-blank text: nothing to strip on the right
        row_start += len(text) + 1  # and the newline
    return "\n".join(out), spans


def predictions_layout_text(predictions: object) -> str:
    """`layout_text` of a `Predictions` (anything with `.polygons` and `.texts`)."""
    return layout_text(list(predictions.polygons), list(predictions.texts))  # type: ignore[attr-defined]
