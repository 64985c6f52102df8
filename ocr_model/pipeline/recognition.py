"""Text-line recognition: batching by aspect ratio, resizing, CTC greedy decoding.

The network's raw scores (its `forward` returns logits) are decoded without a softmax over all 18,710
classes at every time step: argmax gives the path, and the softmax probability of a
kept character is exp(max score - logsumexp(scores)) computed only at the time steps
that emit a character. On a CPU, a `Recognizer`'s scores are computed a slice of time steps at a time and
reduced while the slice is in cache (`fused_greedy_path`); other networks (a compiled one, a test's
stand-in) return all their logits and `greedy_path` reads them: both give the same path and probabilities.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ..config import OcrConfig
from ..networks.recognizer import Recognizer
from .lines import LineSource, as_line_source, pad_rows, prepare_line_batch, resize_line  # noqa: F401 (re-exported)
from .words import WordSpan, split_words

BLANK_INDEX = 0
FRAME_STRIDE = 8  # input pixels per CTC time step (width 320 -> 40 steps)
# Emitting steps whose score rows greedy_path normalises at once. Why: all K rows at once meant a (K, 18710)
# float32 copy plus logsumexp's temporaries of the same size, ~3 x 60 MB for a batch of 6400 input columns;
# 128 rows are ~10 MB each.
LOGSUMEXP_ROWS = 128
# Time steps whose class scores `fused_greedy_path` computes and reduces at once. Why: memory: a batch's
# (steps, 18,710) scores are ~100 MB at 6400 columns, 128 rows ~5 MB (which is what let
# rec_max_batch_pixels_width go back to 6400). Speed is about even: head + path over one receipt's 3,356
# steps (small, bf16, 2026-12-03) 179 -> 130 ms at 1 thread, 81 -> 76-91 ms at 2; 256 and 512 rows were slower.
SCORE_ROWS = 128


@dataclass(frozen=True)
class LineReading:
    text: str
    confidence: float
    # Words with their extent along the line (fractions of the crop width as read).
    words: tuple[WordSpan, ...] = ()


def plan_batches(
    aspect_ratios: list[float],
    batch_size: int,
    max_batch_width: int,
    height: int,
    min_width: int = 0,
    call_overhead: float = 0.0,
) -> list[list[int]]:
    """Group line indices into batches of similar aspect ratio (sorted ascending).

    A batch holds at most `batch_size` lines, and its widest line's width times its line count
    stays within `max_batch_width` (a memory bound for very long lines). With `call_overhead`
    > 0 (the cost of one network call in input columns), the cut points minimise the padded
    input columns plus the calls' cost (dynamic programming over the sorted lines); with 0,
    batches are simply filled in order.
    """
    order = sorted(range(len(aspect_ratios)), key=lambda index: aspect_ratios[index])
    if call_overhead <= 0:
        return _fill_in_order(order, aspect_ratios, batch_size, max_batch_width, height)
    widths = [aspect_ratios[index] * height for index in order]
    best = [0.0] + [math.inf] * len(order)  # best[i]: cost of the first i sorted lines
    cut = [0] * (len(order) + 1)
    for end in range(1, len(order) + 1):
        widest = widths[end - 1]
        padded = math.ceil(max(widest, min_width) / FRAME_STRIDE) * FRAME_STRIDE
        for start in range(end - 1, max(0, end - batch_size) - 1, -1):
            count = end - start
            if count > 1 and count * widest > max_batch_width:
                break
            cost = best[start] + count * padded + call_overhead
            if cost < best[end]:
                best[end], cut[end] = cost, start
    batches: list[list[int]] = []
    end = len(order)
    while end > 0:
        batches.append(order[cut[end] : end])
        end = cut[end]
    return batches[::-1]


def _fill_in_order(
    order: list[int], aspect_ratios: list[float], batch_size: int, max_batch_width: int, height: int
) -> list[list[int]]:
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


def batch_width(sizes: Sequence[tuple[int, int]], height: int, min_width: int, buckets: Sequence[int] = ()) -> int:
    """Padded input width for a batch of crops of (width, height) `sizes`: the widest resized
    crop, at least `min_width`, rounded up to the next of `buckets` (ascending) if one is wide
    enough, else to a multiple of FRAME_STRIDE."""
    widest = max(math.ceil(height * width / crop_height) for width, crop_height in sizes)
    width = max(widest, min_width)
    for bucket in buckets:
        if bucket >= width:
            return int(bucket)
    return int(math.ceil(width / FRAME_STRIDE) * FRAME_STRIDE)


def emits(best: torch.Tensor, before: torch.Tensor) -> torch.Tensor:
    """CTC's emit rule, per time step: the best class is not the blank and differs from the step before's
    (`before` is -1 at a line's first step, so that step may always emit)."""
    return (best != BLANK_INDEX) & (best != before)


def greedy_path(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Best class per time step and its softmax probability, from (N, T, C) scores.

    The probability is computed only where the path emits a character (not blank, not a
    repeat); elsewhere it is left at 0 because decoding never reads it.
    """
    best_scores, best_indices = logits.max(dim=2)
    best_scores = best_scores.float()  # bf16/fp16 logits (or autocast): probabilities in float32
    previous = torch.full_like(best_indices[:, :1], -1)
    emitting = emits(best_indices, torch.cat([previous, best_indices[:, :-1]], dim=1))
    probabilities = torch.zeros_like(best_scores)
    lines, steps = emitting.nonzero(as_tuple=True)  # the K emitting steps, in row-major order
    if lines.numel():
        normalisers = torch.empty(lines.numel(), dtype=torch.float32, device=logits.device)
        for start in range(0, lines.numel(), LOGSUMEXP_ROWS):
            chunk = slice(start, start + LOGSUMEXP_ROWS)
            normalisers[chunk] = torch.logsumexp(logits[lines[chunk], steps[chunk]].float(), dim=1)
        probabilities[lines, steps] = torch.exp(best_scores[lines, steps] - normalisers)
    return best_indices, probabilities


@torch.inference_mode()
def fused_greedy_path(
    features: torch.Tensor, classifier: torch.nn.Linear, space_margins: bool = False, rows: int = SCORE_ROWS
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """`greedy_path(classifier(features))` from (N, T, D) step features, computing the class scores `rows`
    time steps at a time: (best classes, their probabilities, and with `space_margins` the space class's
    score minus the blank's per step (None otherwise)), each (N, T).

    Each slice's scores are reduced (max, then logsumexp at the steps that emit) before the next slice is
    computed, so the (N, T, classes) scores never exist at once; which steps emit is `emits`'s rule, a slice's
    first step compared with the previous slice's last unless it starts a line."""
    if rows < 1:
        raise ValueError(f"rows must be >= 1, got {rows}")
    lines, steps, _ = features.shape
    flat = features.reshape(lines * steps, -1)
    total = flat.shape[0]
    indices = torch.empty(total, dtype=torch.long, device=flat.device)
    probabilities = torch.zeros(total, dtype=torch.float32, device=flat.device)
    margins = torch.empty(total, dtype=torch.float32, device=flat.device) if space_margins else None
    for start in range(0, total, rows):
        stop = min(start + rows, total)
        scores = classifier(flat[start:stop])
        # bf16 -> float32 is exact, and numpy's argmax (the first maximum, like torch's max) reads float32
        # rows ~5x faster than torch's max reads bf16 ones (128 x 18,710: 0.36 vs 1.85 ms at 1 thread)
        exact = scores.float()
        best = torch.from_numpy(exact.numpy().argmax(axis=1))
        best_scores = exact.gather(1, best[:, None]).squeeze(1)
        indices[start:stop] = best
        before = indices[start - 1 : stop - 1] if start else torch.cat([best.new_full((1,), -1), best[:-1]])
        positions = torch.arange(start, stop, device=flat.device)
        before = torch.where(positions % steps == 0, -1, before)  # a line's first step follows nothing
        emitting = emits(best, before).nonzero().squeeze(1)
        if emitting.numel():
            normalisers = torch.logsumexp(exact[emitting], dim=1)
            probabilities[start + emitting] = torch.exp(best_scores[emitting] - normalisers)
        if margins is not None:
            margins[start:stop] = (scores[:, -1] - scores[:, BLANK_INDEX]).float()
    shaped = (lines, steps)
    return indices.view(shaped), probabilities.view(shaped), margins.view(shaped) if margins is not None else None


def score_classifier(network: torch.nn.Module, device: torch.device) -> torch.nn.Linear | None:
    """The Linear that turns `network`'s step features into class scores, when the fused path may use it: a
    plain `Recognizer` (not a compiled wrapper, whose own graph would be bypassed) on a CPU (the path reads
    the scores with numpy). On an accelerator the whole batch's scores are one kernel and fit its memory,
    so the logits path stays."""
    if isinstance(network, Recognizer) and device.type == "cpu" and isinstance(network.head.fc, torch.nn.Linear):
        return network.head.fc
    return None


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


def recognition_settings(config: OcrConfig, checkpoint: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """`recognize_lines`' keyword arguments from `config`, with a checkpoint's own recognition settings (its
    header's "recognition", see config.CHECKPOINT_RECOGNITION_SETTINGS) over it. The one place where the
    engine (predictor) and the fine-tuner's validation turn settings into a read, so both read alike."""
    if checkpoint:
        config = config.with_options(**checkpoint)
    return {
        "height": config.rec_height,
        "min_width": config.rec_min_width,
        "batch_size": config.rec_batch_size,
        "max_batch_width": config.rec_max_batch_pixels_width,
        "space_gap_ratio": config.space_gap_ratio,
        "space_margin_threshold": config.space_margin_threshold,
        "call_overhead": config.rec_call_overhead_columns,
    }


@torch.inference_mode()
def recognize_lines(
    network: torch.nn.Module,
    crops: LineSource | Sequence[np.ndarray],
    characters: list[str],
    *,
    height: int = 48,
    min_width: int = 320,
    batch_size: int = 16,
    max_batch_width: int = 16 * 960,
    space_gap_ratio: float = 0.0,
    space_margin_threshold: float | None = None,
    width_buckets: Sequence[int] = (),
    batch_buckets: Sequence[int] = (),
    call_overhead: float = 0.0,
) -> list[LineReading]:
    """Read every line (RGB uint8 crops or a `LineSource`); readings in the order of the lines.

    `characters[i]` is class i + 1; when the network has one class more than
    len(characters) + 1, that last class is the space (PP-OCR's convention).
    Per batch, the greedy path is computed on the network's device and comes back to the host
    in one transfer (no per-line synchronisation). `width_buckets` / `batch_buckets` round the
    input's width / line count up to a bounded set of shapes (for an accelerator: each shape
    pays kernel selection once, at warm-up); empty = exact shapes (the CPU's choice).
    """
    lines = as_line_source(crops)
    if not len(lines):
        return []
    device = next(network.parameters(), torch.empty(0)).device
    sizes = lines.sizes()
    ratios = [width / crop_height for width, crop_height in sizes]
    readings: list[LineReading] = [LineReading("", 0.0)] * len(lines)
    classifier = score_classifier(network, device)
    for batch_indices in plan_batches(ratios, batch_size, max_batch_width, height, min_width, call_overhead):
        width = batch_width([sizes[i] for i in batch_indices], height, min_width, width_buckets)
        batch = pad_rows(lines.batch(batch_indices, height, width, device), batch_buckets)
        if classifier is not None:
            scores = network.step_features(batch)[: len(batch_indices)]  # without the padding rows
            shape = (*scores.shape[:2], classifier.out_features)
        else:
            scores = network(batch)[: len(batch_indices)]
            shape = tuple(scores.shape)
        if len(shape) == 3 and shape[2] == len(characters) + 2:
            characters = [*characters, " "]  # PP-OCR's implicit last class is the space
        if len(shape) != 3 or shape[2] != len(characters) + 1:
            raise RuntimeError(f"recognition network returned shape {shape}, expected (N, T, {len(characters) + 1})")
        with_margins = space_margin_threshold is not None and characters[-1] == " "
        if classifier is not None:
            best_indices, probabilities, space_margins = fused_greedy_path(scores, classifier, with_margins)
        else:
            best_indices, probabilities = greedy_path(scores)
            space_margins = (scores[:, :, -1] - scores[:, :, BLANK_INDEX]).float() if with_margins else None
        columns = [best_indices.float(), probabilities]  # class ids < 2**24: exact in float32
        if space_margins is not None:
            columns.append(space_margins)
        on_host = torch.stack(columns).cpu().numpy()  # the batch's one device -> host copy
        best_host = on_host[0].astype(np.int64)
        margins = on_host[2] if with_margins else None
        for row, index in enumerate(batch_indices):
            reading = decode_line(
                best_host[row],
                on_host[1][row],
                characters,
                space_gap_ratio,
                margins[row] if margins is not None else None,
                space_margin_threshold,
            )
            # Word extents: time steps -> fractions of this crop's resized (unpadded) width.
            crop_width, crop_height = sizes[index]
            resized_width = min(width, max(1, math.ceil(height * crop_width / crop_height)))
            words = tuple(word.scaled(FRAME_STRIDE / resized_width) for word in reading.words)
            readings[index] = LineReading(reading.text, reading.confidence, words)
    return readings
