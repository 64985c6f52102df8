"""Word boxes from the CTC alignment.

The recognizer emits each character at one time step (FRAME_STRIDE input pixels wide). A
word's extent along its line is taken from the steps of its first and last characters,
widened by 3/4 of the line's character pitch on each side, as a fraction of the crop width;
`word_polygons` maps those fractions back through the crop's perspective transform into
the original image's pixels.

Two small pure functions, so the recognizer and the predictor only call them:
- `split_words(final_chars, emitted, total_steps)` -> `WordSpan`s (fractions of the line input);
- `word_polygons(quad, padding, spans, flipped)` -> one 4x2 polygon per word.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from typing import Sequence

import cv2
import numpy as np

from .crops import VERTICAL_ASPECT, pad_quad


@dataclass(frozen=True)
class WordSpan:
    """One word of a line reading: its text and where it lies along the line.

    `start` and `end` are in recognizer time steps until `scaled` turns them into fractions
    of the crop width (0 = left edge of the crop as the recognizer saw it, 1 = right edge).
    """

    text: str
    start: float
    end: float
    confidence: float

    def scaled(self, factor: float) -> "WordSpan":
        return replace(
            self,
            start=min(1.0, max(0.0, self.start * factor)),
            end=min(1.0, max(0.0, self.end * factor)),
        )


def split_words(
    final_chars: Sequence[str],
    emitted: Sequence[tuple[str, int, float]],
    total_steps: int,
) -> tuple[WordSpan, ...]:
    """Group a decoded line into words with their extent in time steps.

    `final_chars` is the decoded character sequence after space recovery (spaces may have
    been inserted); `emitted` holds (character, time step, probability) of every character
    the CTC path emitted, in order, so each non-inserted character finds its own step.
    Words are the runs between spaces, NFKC-normalized like the line text; a run that
    normalizes to several words shares its extent by character count.
    """
    groups: list[list[tuple[str, int, float]]] = [[]]
    position = 0
    for char in final_chars:
        if position < len(emitted) and emitted[position][0] == char:
            entry = emitted[position]
            position += 1
        else:
            entry = (char, -1, 0.0)  # a recovered space: no step of its own
        if char.isspace():
            if groups[-1]:
                groups.append([])
            continue
        groups[-1].append(entry)
    groups = [group for group in groups if any(step >= 0 for _, step, _ in group)]
    if not groups:
        return ()
    steps = [step for group in groups for _, step, _ in group if step >= 0]
    gaps = np.diff(np.asarray(steps, dtype=np.float64))
    gaps = gaps[gaps > 0]
    # Each word reaches 3/4 of a character pitch beyond its first/last character's step
    # (CTC peaks sit anywhere inside a character), but not past the middle of the gap to the
    # next word.
    reach = max(1.0, 0.75 * float(np.median(gaps))) if gaps.size else 1.5
    bounds = [
        (min(step for _, step, _ in group if step >= 0) + 0.5, max(step for _, step, _ in group if step >= 0) + 0.5)
        for group in groups
    ]
    words: list[WordSpan] = []
    for number, group in enumerate(groups):
        first, last = bounds[number]
        left_room = (first - bounds[number - 1][1]) / 2 if number > 0 else reach
        right_room = (bounds[number + 1][0] - last) / 2 if number + 1 < len(groups) else reach
        start = max(0.0, first - min(reach, left_room))
        end = min(float(total_steps), last + min(reach, right_room))
        probabilities = [probability for _, step, probability in group if step >= 0]
        confidence = float(np.mean(probabilities))
        text = unicodedata.normalize("NFKC", "".join(char for char, _, _ in group))
        parts = text.split()
        if len(parts) == 1:
            words.append(WordSpan(parts[0], start, end, confidence))
            continue
        total = sum(len(part) for part in parts) or 1
        cursor = start
        for part in parts:
            width = (end - start) * len(part) / total
            words.append(WordSpan(part, cursor, cursor + width, confidence))
            cursor += width
    return tuple(words)


def crop_frame(quad: np.ndarray, padding: float) -> tuple[np.ndarray, int, int, bool]:
    """The padded quad, crop width and height, and whether the crop was turned as vertical
    text, exactly as `crops.crop_quad` computes them."""
    padded = pad_quad(np.asarray(quad, dtype=np.float32).reshape(4, 2), padding)
    width = int(round(max(np.linalg.norm(padded[0] - padded[1]), np.linalg.norm(padded[3] - padded[2]))))
    height = int(round(max(np.linalg.norm(padded[0] - padded[3]), np.linalg.norm(padded[1] - padded[2]))))
    width, height = max(width, 1), max(height, 1)
    return padded, width, height, height >= VERTICAL_ASPECT * width


def word_polygons(
    quad: np.ndarray,
    padding: float,
    spans: Sequence[WordSpan],
    flipped: bool = False,
) -> list[np.ndarray]:
    """4x2 float32 polygon per word span (fractions of the recognizer's view of the crop).

    The points go clockwise from the word's own top-left as it reads (so for a line read
    at 180° the first point is at the image's bottom right of the word). `flipped` says the
    recognizer read the crop turned by 180°.
    """
    if not spans:
        return []
    padded, width, height, vertical = crop_frame(quad, padding)
    # Corners of each word in the recognizer's view: x along the reading direction, y down.
    view_length, view_height = (height, width) if vertical else (width, height)
    starts = np.array([span.start for span in spans], dtype=np.float64) * view_length
    ends = np.array([span.end for span in spans], dtype=np.float64) * view_length
    view = np.stack(
        [
            np.stack([starts, np.zeros_like(starts)], axis=1),
            np.stack([ends, np.zeros_like(ends)], axis=1),
            np.stack([ends, np.full_like(ends, view_height)], axis=1),
            np.stack([starts, np.full_like(starts, view_height)], axis=1),
        ],
        axis=1,
    )  # (N, 4, 2)
    if flipped:  # the view was the crop turned by 180°
        view = np.stack([view_length - view[..., 0], view_height - view[..., 1]], axis=-1)
    if vertical:  # the view was np.rot90(crop): view x = crop y, view y = width - crop x
        view = np.stack([width - view[..., 1], view[..., 0]], axis=-1)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    inverse = cv2.getPerspectiveTransform(target, padded.astype(np.float32))
    mapped = cv2.perspectiveTransform(view.reshape(-1, 1, 2).astype(np.float64), inverse.astype(np.float64))
    return [polygon.astype(np.float32) for polygon in mapped.reshape(-1, 4, 2)]
