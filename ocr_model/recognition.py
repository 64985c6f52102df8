"""Text-line recognition: batching by aspect ratio, resizing, CTC greedy decoding.

The network's raw scores (`rec.logits`) are decoded without a softmax over all 18,710
classes at every time step: argmax gives the path, and the softmax probability of a
kept character is exp(max score - logsumexp(scores)) computed only at the time steps
that emit a character.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from .words import WordSpan, split_words

BLANK_INDEX = 0
FRAME_STRIDE = 8  # input pixels per CTC time step (width 320 -> 40 steps)


@dataclass(frozen=True)
class LineReading:
    text: str
    confidence: float
    # Words with their extent along the line (fractions of the crop width as read).
    words: tuple[WordSpan, ...] = ()


def plan_batches(aspect_ratios: list[float], batch_size: int, max_batch_width: int, height: int) -> list[list[int]]:
    """Group line indices into batches of similar aspect ratio (sorted ascending).

    A batch closes when it holds `batch_size` lines or when its padded width times its
    line count would exceed `max_batch_width` (a memory bound for very long lines).
    """
    order = sorted(range(len(aspect_ratios)), key=lambda index: aspect_ratios[index])
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        widest = max(aspect_ratios[index], *(aspect_ratios[i] for i in current)) if current else aspect_ratios[index]
        would_be_width = (len(current) + 1) * widest * height
        if current and (len(current) >= batch_size or would_be_width > max_batch_width):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


def batch_width(crops: list[np.ndarray], height: int, min_width: int) -> int:
    """Padded input width for a batch: the widest resized crop, a multiple of FRAME_STRIDE."""
    widest = max(math.ceil(height * crop.shape[1] / crop.shape[0]) for crop in crops)
    width = max(widest, min_width)
    return int(math.ceil(width / FRAME_STRIDE) * FRAME_STRIDE)


def resize_line(crop: np.ndarray, height: int, max_width: int) -> np.ndarray:
    """Resize a line crop to `height`, keeping its aspect ratio (width capped at max_width)."""
    width = min(max_width, max(1, math.ceil(height * crop.shape[1] / crop.shape[0])))
    interpolation = cv2.INTER_AREA if crop.shape[0] > height else cv2.INTER_LINEAR
    return cv2.resize(crop, (width, height), interpolation=interpolation)


def prepare_line_batch(crops: list[np.ndarray], height: int, width: int) -> torch.Tensor:
    """RGB uint8 crops -> (N, 3, height, width) float32 BGR in [-1, 1], right-padded with 0."""
    if not crops:
        raise ValueError("prepare_line_batch needs at least one crop")
    batch = torch.zeros((len(crops), 3, height, width), dtype=torch.float32)
    for row, crop in enumerate(crops):
        resized = resize_line(crop, height, width)
        bgr = torch.from_numpy(np.ascontiguousarray(resized[:, :, ::-1]))
        batch[row, :, :, : resized.shape[1]] = bgr.permute(2, 0, 1).float().div_(127.5).sub_(1.0)
    return batch


def greedy_path(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Best class per time step and its softmax probability, from (N, T, C) scores.

    The probability is computed only where the path emits a character (not blank, not a
    repeat); elsewhere it is left at 0 because decoding never reads it.
    """
    best_scores, best_indices = logits.max(dim=2)
    best_scores = best_scores.float()  # bf16/fp16 logits (or autocast): probabilities in float32
    previous = torch.full_like(best_indices[:, :1], -1)
    emits = (best_indices != BLANK_INDEX) & (best_indices != torch.cat([previous, best_indices[:, :-1]], dim=1))
    probabilities = torch.zeros_like(best_scores)
    if bool(emits.any()):
        emitting_scores = logits[emits]  # (K, C)
        probabilities[emits] = torch.exp(best_scores[emits] - torch.logsumexp(emitting_scores.float(), dim=1))
    return best_indices, probabilities


def is_wide_script(character: str) -> bool:
    """CJK/kana/hangul and other full-width characters: no spaces between them."""
    return unicodedata.east_asian_width(character) in ("W", "F")


def decode_line(
    indices: np.ndarray,
    probabilities: np.ndarray,
    characters: list[str],
    space_gap_ratio: float = 0.0,
    space_margins: np.ndarray | None = None,
    space_margin_threshold: float | None = None,
) -> LineReading:
    """CTC greedy decoding of one line: collapse repeats, drop blanks, NFKC-normalize.

    `characters[i - 1]` is the character of class i (class 0 is the CTC blank).
    Spaces the greedy path dropped can be recovered from the alignment:
    - `space_margins` (score of the space class minus score of the blank, per time step)
      with `space_margin_threshold`: a space goes between two characters when a blank
      step between them has a margin above the threshold (the space was a close second);
    - `space_gap_ratio` > 0: a space goes between two characters whose time steps are
      more than that many times the line's median character pitch apart.
    Neither inserts spaces next to CJK (wide) characters.
    """
    emitted_chars: list[str] = []
    emitted_steps: list[int] = []
    emitted_probs: list[float] = []
    previous = -1
    for step, index in enumerate(indices.tolist()):
        if index != previous and index != BLANK_INDEX and 0 < index <= len(characters):
            emitted_chars.append(characters[index - 1])
            emitted_steps.append(step)
            emitted_probs.append(float(probabilities[step]))
        previous = index
    if not emitted_chars:
        return LineReading("", 0.0)

    emitted = list(zip(emitted_chars, emitted_steps, emitted_probs))
    if space_margins is not None and space_margin_threshold is not None:
        emitted_chars, emitted_steps = insert_margin_spaces(
            emitted_chars, emitted_steps, space_margins, space_margin_threshold
        )
    if space_gap_ratio > 0 and len(emitted_chars) >= 3:
        emitted_chars = insert_gap_spaces(emitted_chars, emitted_steps, space_gap_ratio)
    text = unicodedata.normalize("NFKC", "".join(emitted_chars))
    text = " ".join(text.split())  # NFKC can produce runs of spaces; also trims
    return LineReading(text, float(np.mean(emitted_probs)), split_words(emitted_chars, emitted, len(indices)))


def can_take_space(left: str, right: str) -> bool:
    return not (left.isspace() or right.isspace() or is_wide_script(left) or is_wide_script(right))


def insert_margin_spaces(
    chars: list[str], steps: list[int], margins: np.ndarray, threshold: float
) -> tuple[list[str], list[int]]:
    """Insert a space between two characters where the space class nearly won a step."""
    out_chars, out_steps = [chars[0]], [steps[0]]
    for left, right, left_step, right_step in zip(chars[:-1], chars[1:], steps[:-1], steps[1:]):
        between = margins[left_step + 1 : right_step]
        if between.size and float(between.max()) > threshold and can_take_space(left, right):
            best = left_step + 1 + int(np.argmax(between))
            out_chars.append(" ")
            out_steps.append(best)
        out_chars.append(right)
        out_steps.append(right_step)
    return out_chars, out_steps


def insert_gap_spaces(chars: list[str], steps: list[int], gap_ratio: float) -> list[str]:
    """Insert spaces where the gap between consecutive characters is unusually wide."""
    gaps = np.diff(np.asarray(steps, dtype=np.float64))
    # Pitch from gaps between non-space characters inside words (spaces make big gaps).
    inner = [gap for gap, left, right in zip(gaps, chars[:-1], chars[1:]) if not left.isspace() and not right.isspace()]
    if len(inner) < 2:
        return chars
    pitch = float(np.median(inner))
    result = [chars[0]]
    for gap, left, right in zip(gaps, chars[:-1], chars[1:]):
        if gap > gap_ratio * pitch and can_take_space(left, right):
            result.append(" ")
        result.append(right)
    return result


@torch.inference_mode()
def recognize_lines(
    network: torch.nn.Module,
    crops: list[np.ndarray],
    characters: list[str],
    *,
    height: int = 48,
    min_width: int = 320,
    batch_size: int = 16,
    max_batch_width: int = 16 * 960,
    space_gap_ratio: float = 0.0,
    space_margin_threshold: float | None = None,
) -> list[LineReading]:
    """Read every crop (RGB uint8); returns readings in the order of `crops`.

    `characters[i]` is class i + 1; when the network has one class more than
    len(characters) + 1, that last class is the space (PP-OCR's convention).
    """
    if not crops:
        return []
    device = next(network.parameters(), torch.empty(0)).device
    ratios = [crop.shape[1] / crop.shape[0] for crop in crops]
    readings: list[LineReading] = [LineReading("", 0.0)] * len(crops)
    for batch_indices in plan_batches(ratios, batch_size, max_batch_width, height):
        batch_crops = [crops[index] for index in batch_indices]
        width = batch_width(batch_crops, height, min_width)
        batch = prepare_line_batch(batch_crops, height, width).to(device)
        logits = network.logits(batch) if hasattr(network, "logits") else torch.log(network(batch).clamp_min(1e-30))
        if logits.ndim == 3 and logits.shape[2] == len(characters) + 2:
            characters = [*characters, " "]  # PP-OCR's implicit last class is the space
        if logits.ndim != 3 or logits.shape[2] != len(characters) + 1:
            raise RuntimeError(
                f"recognition network returned shape {tuple(logits.shape)}, expected (N, T, {len(characters) + 1})"
            )
        best_indices, probabilities = greedy_path(logits)
        best_indices, probabilities = best_indices.cpu().numpy(), probabilities.float().cpu().numpy()
        margins = None
        if space_margin_threshold is not None and characters[-1] == " ":
            margins = (logits[:, :, -1] - logits[:, :, BLANK_INDEX]).float().cpu().numpy()
        for row, index in enumerate(batch_indices):
            reading = decode_line(
                best_indices[row],
                probabilities[row],
                characters,
                space_gap_ratio,
                margins[row] if margins is not None else None,
                space_margin_threshold,
            )
            # Word extents: time steps -> fractions of this crop's resized (unpadded) width.
            crop = crops[index]
            resized_width = min(width, max(1, math.ceil(height * crop.shape[1] / crop.shape[0])))
            words = tuple(word.scaled(FRAME_STRIDE / resized_width) for word in reading.words)
            readings[index] = LineReading(reading.text, reading.confidence, words)
    return readings
