"""Tunable settings of the OCR pipeline, in one frozen dataclass.

`OcrModel` holds one `OcrConfig` as its defaults; `OcrModel.predict(image, **options)`
takes any field as a keyword argument for that call only (a new config is made with
`dataclasses.replace`, the shared one is never mutated).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Any

# Hard ceilings that per-call options cannot exceed, so one request's worst case stays
# bounded (detection input ~ 16 MP: ~0.2 GB of float32 activations per feature map level).
HARD_MAX_DETECTION_PIXELS = 4096 * 4096
HARD_MAX_DETECTION_SIDE = 8192
HARD_MAX_TEXT_REGIONS = 5000
HARD_MAX_UPSCALE = 4.0

# Two lines are on the same row when their vertical overlap is at least this fraction of the shorter
# one's height. Used by both row groupings: pipeline.reading_order (the order of the results) and
# exporters.layout (the layout text); see reading_rows for why they are two.
SAME_ROW_OVERLAP = 0.5

# Input limits shared by every way in (app uploads, the command line, Ray), each defined only here.
# 40 MP: above the 35 MP document scans users really upload, well below Pillow's own 89 MP bomb
# warning. A rendered PDF page is held to the same cap.
MAX_IMAGE_PIXELS = 40_000_000
# PDF pages render at this resolution (lower when a page would exceed MAX_IMAGE_PIXELS), and an image
# put into a searchable PDF without a page size becomes a page of its pixels at this resolution.
PAGE_DPI = 200.0
# Each PDF page is rendered in a child process (ocr_model/inputs/pdf_process.py) held to these limits
# per operation (opening the document, rendering one page); past them the child is killed and the page
# is reported as not rendered, the other pages are still read. The legitimate worst case, a 14,400 pt
# page rendered at the 40 MP cap (6,319 px square) covered by a 4000 px scan (tests/pdf_bombs.py
# worst_case_pdf), took 4.5-6.4 s wall (0.6 s of the child's CPU) on the shared 2-core machine at load
# 13-15, and +240 MB of address space: the defaults allow about twice the time and four times the memory
# (a page's memory also grows with the images on it). A 60000 x 60000 JPEG 2000 image needs 43 GB.
PDF_PAGE_SECONDS_ENV = "OCR_PDF_PAGE_SECONDS"
PDF_PAGE_MB_ENV = "OCR_PDF_PAGE_MB"
DEFAULT_PDF_PAGE_SECONDS = 10
DEFAULT_PDF_PAGE_MB = 1024


@dataclass(frozen=True)
class OcrConfig:
    # --- detection input size -------------------------------------------------------
    # Longest side of the detection input, in pixels. Why: detection cost grows with the
    # pixel count; receipts and A4 pages keep their text legible at this size while a
    # 35 MP scan is cut down ~3x per side. It is the main speed/recall trade-off knob.
    det_max_side: int = 1600
    # Shortest side is raised to at least this (upscaling small images). Why: the DB
    # network misses text whose x-height is below ~8 px; small crops/screenshots need it.
    det_min_side: int = 736
    # Upscaling factor cap for small images. Why: a 100x300 snippet should not be blown
    # up 7x (slow, blurry); 2x is enough for the network to see small text.
    det_max_upscale: float = 2.0
    # Hard cap on detection input pixels (after both rules above). Why: bounds one
    # request's worst case (memory and time) whatever the aspect ratio.
    det_max_pixels: int = 4_000_000

    # Adaptive detection size: a probe pass measures the text-line heights and the image is
    # detected at the scale that brings them to this many pixels (never above the size policy
    # above); None = always the policy. Why: the policy upscales most phone photos and receipts
    # (short side to 736) although their text is already large; DB finds 16 px lines as well as
    # 40 px ones and its cost grows with the pixel count. sroie-dev: 1.23 -> 0.64 detection MP
    # per image, word F1 0.9231 -> 0.9242 (at 12 px F1 fell to 0.903: lines merge).
    det_text_height: float | None = 16.0
    # Long side of the probe pass (never above the policy size). Why: PaddleOCR's own default
    # detection size for general images, so text it would see is measured; ~36 % of the pixels
    # of a 1600 px pass. (800 px: 0.54 MP per image, word F1 0.9211.)
    det_probe_side: int = 960
    # The probe's lines are reused when the wanted scale is at most this times the probe's.
    # Why: a second pass that is only slightly larger costs more than it gains.
    det_probe_reuse: float = 1.2
    # Fewer lines than this in the probe: run at the policy size. Why: a median over 1-2
    # boxes (a logo, a stamp) says nothing about the body text.
    det_probe_min_lines: int = 3
    # Percentile of the probe's line heights that is brought to `det_text_height`. Why: a low
    # percentile sizes the pass for the smaller text of a page (fine print), not the average.
    det_probe_percentile: float = 25.0

    # --- DB post-processing ------------------------------------------------------------
    # Probability above which a pixel counts as text. Why: PP-OCR's trained operating point.
    det_threshold: float = 0.3
    # Minimum mean probability inside a candidate box. Why: drops faint false positives.
    det_box_threshold: float = 0.5
    # How far each shrunk DB kernel is grown back (distance = area * ratio / perimeter).
    # Why: DB predicts shrunk text kernels; 1.5-2.0 restores the full line height.
    det_unclip_ratio: float = 1.6
    # Dilate the binary map with a 2x2 kernel when detecting at the policy size. Why: joins
    # characters split by 1-px gaps in small text. Not at an adaptive size, where lines are
    # det_text_height px tall and a dilation merges neighbouring lines (sroie-dev line recall
    # 0.70 with it vs 0.88 without, at 16 px).
    det_dilate: bool = True
    # Boxes with a shorter side (detection pixels) are dropped. Why: specks, not text.
    det_min_box_side: float = 3.0
    # At most this many text regions per image. Why: bounds worst-case time/memory.
    max_text_regions: int = 1000

    # --- cropping ----------------------------------------------------------------------
    # Extra margin added around each line before cropping, as a fraction of line height.
    # Why: unclipped boxes are tight; a little context helps the first/last character.
    crop_padding: float = 0.08

    # Where line crops are cut and resized: "opencv" on the host (cv2 warp + resize, then one
    # upload per batch), "torch" as grid_sample on the model's device from the image uploaded
    # once, "auto" = torch on an accelerator, opencv on the CPU. Why: on a GPU the host crops,
    # resizes and per-batch copies were most of the time per receipt; on the CPU OpenCV is
    # faster and is what the accuracy figures were measured with.
    line_crops: str = "auto"

    # --- orientation (180°) ----------------------------------------------------------------
    # "off": never; "all": classify every line (like PP-OCR); "auto": only lines whose
    # recognition confidence is below `orientation_retry_below` are classified and re-read
    # at 180°. Why "auto": upright text (the vast majority) skips the extra work.
    orientation: str = "auto"
    # Probability the classifier must give "180°" before a line is flipped.
    orientation_threshold: float = 0.9
    # In "auto" mode, lines read with a confidence under this are checked for 180°.
    orientation_retry_below: float = 0.85
    # In "auto" mode, a doubtful line's 180° re-read replaces it without the classifier's
    # agreement when its confidence is higher by this much. Why: the classifier missed an
    # upside-down line read at 0.70 upright vs 1.00 flipped; a margin keeps symmetric glyphs stable.
    orientation_reread_margin: float = 0.15

    # --- page orientation (0/90/180/270) ---------------------------------------------------
    # "auto": decide from the detected lines which of 0, 90, 180, 270 degrees (clockwise)
    # makes the page upright and read it that way up (see pipeline/page_rotation.py); 0, 90, 180
    # or 270: turn by that much (a manual choice); "off" = 0. Why "auto": phone photos of
    # pages often arrive sideways without an EXIF tag; polygons stay in the input's pixels.
    page_rotation: str | int = "auto"
    # Lines (the longest ones) read both ways up to decide. Why: one recognizer batch; a few
    # long lines decide as reliably as all of them.
    page_rotation_sample_lines: int = 8
    # A page whose lines run across is turned by 180° only when the turned reads are this
    # much more confident on average. Why: upright pages must never be turned on a close call.
    page_rotation_margin: float = 0.05

    # --- recognition -------------------------------------------------------------------
    # Recognition input height (fixed by the network).
    rec_height: int = 48
    # Minimum padded input width. Why: the network was trained on 320-wide inputs; short
    # words padded to a narrower width are cheaper but may read differently.
    rec_min_width: int = 192
    # Lines per recognition batch. Why: batching amortizes per-call overhead (mostly oneDNN
    # building the primitives of a new input shape); lines are sorted by aspect ratio first so
    # little padding is wasted. 32 with the two below (was 16 / 3200 / 300): see the next comment.
    rec_batch_size: int = 32
    # Max total padded width (pixels) of one batch's input. Why: bounds the activations' memory
    # (the class scores no longer count: recognition reduces them 128 steps at a time). 6400
    # (was 3200, set when a batch's whole (N, width/8, 18710) scores were held).
    rec_max_batch_pixels_width: int = 6400
    # Cost of one recognition call in input columns (of 48 px), used to cut the aspect-ratio
    # sorted lines into batches with the least padding + calls; 0 = fill batches in order.
    # Why: filled in order, a batch's short lines were padded to its longest (26 % more input
    # than each line at its own width). 1 thread: 6.8 ms per call + 22 us per column (~300
    # columns); at the default 2 threads a call's fixed cost weighs more. 32 / 6400 / 600 against
    # 16 / 3200 / 300 on sroie-dev, interleaved per image in one process at 2 threads (quiet,
    # bf16, 2026-12-03): per-image time ratio 0.914, word F1 0.9241 vs 0.9243 (32/6400/900: 0.932,
    # 64/6400/600: 0.938, 32/9600/900: 0.923, each F1 0.922-0.924).
    rec_call_overhead_columns: int = 600
    # Lines recognized with a lower confidence are dropped. Why: noise reads as garbage.
    min_text_confidence: float = 0.5
    # Insert a space where two characters are this many times farther apart (CTC frames)
    # than the line's median character pitch. 0 disables. Why: the recognizer often
    # drops spaces in tightly set receipt text ("Tel:07-8263254Fax:").
    space_gap_ratio: float = 0.0

    # Insert a space between two characters when, at a blank step between them, the
    # space class scores within this margin of the blank (score(space) - score(blank) >
    # threshold, in logits). None disables. Why: same dropped spaces; the network often
    # "almost" emits them, which is a finer signal than the 8-pixel step gaps.
    space_margin_threshold: float | None = -2.5

    # Return freed heap memory to the OS at the end of each call (glibc malloc_trim,
    # ~20-130 ms). Why: without it a long-running process's RSS creeps up call after call.
    trim_memory_after_call: bool = True

    def __post_init__(self) -> None:
        if self.det_text_height is not None and not 4.0 <= self.det_text_height <= 256.0:
            raise ValueError("det_text_height must be None or in [4, 256]")
        if self.det_probe_side < 32 or self.det_probe_reuse < 1.0 or self.det_probe_min_lines < 1:
            raise ValueError("det_probe_side must be >= 32, det_probe_reuse >= 1 and det_probe_min_lines >= 1")
        if not 0.0 <= self.det_probe_percentile <= 100.0:
            raise ValueError("det_probe_percentile must be in [0, 100]")
        if self.det_max_side < 32 or self.det_min_side < 32:
            raise ValueError("det_max_side and det_min_side must be at least 32")
        if not 0.0 < self.det_threshold < 1.0 or not 0.0 <= self.det_box_threshold < 1.0:
            raise ValueError("det_threshold must be in (0, 1) and det_box_threshold in [0, 1)")
        if self.orientation_reread_margin < 0:
            raise ValueError("orientation_reread_margin must be >= 0")
        if self.det_unclip_ratio <= 0:
            raise ValueError("det_unclip_ratio must be positive")
        if self.max_text_regions < 1 or self.rec_batch_size < 1:
            raise ValueError("max_text_regions and rec_batch_size must be at least 1")
        if (
            self.det_max_pixels > HARD_MAX_DETECTION_PIXELS
            or max(self.det_max_side, self.det_min_side) > HARD_MAX_DETECTION_SIDE
            or self.max_text_regions > HARD_MAX_TEXT_REGIONS
            or not 0 < self.det_max_upscale <= HARD_MAX_UPSCALE
        ):
            raise ValueError(
                f"detection size / region limits above the hard caps (pixels <= {HARD_MAX_DETECTION_PIXELS}, "
                f"side <= {HARD_MAX_DETECTION_SIDE}, regions <= {HARD_MAX_TEXT_REGIONS}, upscale in (0, {HARD_MAX_UPSCALE}])"
            )
        if self.rec_min_width < 8 or self.rec_max_batch_pixels_width < 8 * self.rec_height:
            raise ValueError("rec_min_width must be >= 8 and rec_max_batch_pixels_width >= 8 * rec_height")
        if self.manual_rotation() is None and self.page_rotation != "auto":
            raise ValueError(
                f"page_rotation must be 'auto', 'off', 0, 90, 180 or 270, got {self.page_rotation!r}"
            )
        if self.page_rotation_sample_lines < 1 or not 0 <= self.page_rotation_margin < 1:
            raise ValueError("page_rotation_sample_lines must be >= 1 and page_rotation_margin in [0, 1)")
        if self.rec_call_overhead_columns < 0:
            raise ValueError("rec_call_overhead_columns must be >= 0")
        if self.line_crops not in ("auto", "opencv", "torch"):
            raise ValueError(f"line_crops must be 'auto', 'opencv' or 'torch', got {self.line_crops!r}")
        if self.orientation not in ("off", "auto", "all"):
            raise ValueError(f"orientation must be 'off', 'auto' or 'all', got {self.orientation!r}")

    def manual_rotation(self) -> int | None:
        """The page rotation asked for (0, 90, 180, 270), or None for "auto" (or an invalid value)."""
        value = self.page_rotation
        if value == "off":
            return 0
        if isinstance(value, bool):
            return None
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        return value if isinstance(value, int) and value in (0, 90, 180, 270) else None

    @classmethod
    def option_names(cls) -> frozenset[str]:
        return frozenset(field.name for field in fields(cls))

    def with_options(self, **options: Any) -> "OcrConfig":
        """A copy with some fields changed; unknown names raise ValueError (not TypeError)."""
        unknown = set(options) - self.option_names()
        if unknown:
            raise ValueError(f"unknown OCR option(s): {', '.join(sorted(unknown))}")
        if not options:
            return self
        return replace(self, **options)


# Settings a checkpoint may carry in its header ("recognition": {name: value}) for the engine to read it with.
# Why: the space heuristics above were tuned on the base recognizer; a fine-tuned one that learned where its
# documents put spaces reads worse with them (they add spaces inside tokens: "65. 20"). Built-ins carry none.
CHECKPOINT_RECOGNITION_SETTINGS = ("space_margin_threshold", "space_gap_ratio")


def _header_settings(settings: Any, allowed: tuple[str, ...], where: str) -> dict[str, Any]:
    """A checkpoint header's settings object (None: no settings) with only `allowed` names, else a ValueError."""
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        raise ValueError(f"{where}: expected an object, got {type(settings).__name__}")
    unknown = sorted(set(settings) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown setting(s) {unknown}; a checkpoint may set {list(allowed)}")
    return settings


def checked_recognition_settings(settings: Any, where: str = "recognition settings") -> dict[str, Any]:
    """`settings` (a checkpoint header's "recognition" object) as a dict of OcrConfig fields, or a ValueError
    saying what is wrong: only CHECKPOINT_RECOGNITION_SETTINGS, each of its type (space_margin_threshold:
    a number or None; space_gap_ratio: a number >= 0)."""
    checked: dict[str, Any] = {}
    for name, value in _header_settings(settings, CHECKPOINT_RECOGNITION_SETTINGS, where).items():
        number = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
        if name == "space_margin_threshold" and not (value is None or number):
            raise ValueError(f"{where}: space_margin_threshold must be a number or null, got {value!r}")
        if name == "space_gap_ratio" and not (number and value >= 0):
            raise ValueError(f"{where}: space_gap_ratio must be a number >= 0, got {value!r}")
        checked[name] = float(value) if number else value
    return checked


# Settings a checkpoint may carry in its header ("detection": {name: value}) for the engine to detect with.
# Why: the DB post-processing defaults above are PP-OCR small's operating point; another detector reads better
# at its own. PP-OCRv6 tiny carries PaddleOCR's published values (its inference.yml: thresh 0.2, box_thresh 0.4,
# unclip_ratio 1.4): sroie-dev word F1 0.847 -> 0.860, line P/R 0.893/0.873 -> 0.918/0.902 (bf16).
CHECKPOINT_DETECTION_SETTINGS = ("det_threshold", "det_box_threshold", "det_unclip_ratio")


def checked_detection_settings(settings: Any, where: str = "detection settings") -> dict[str, float]:
    """`settings` (a checkpoint header's "detection" object) as a dict of OcrConfig fields, or a ValueError
    saying what is wrong: only CHECKPOINT_DETECTION_SETTINGS, each a number in its range (det_threshold in
    (0, 1), det_box_threshold in [0, 1), det_unclip_ratio > 0)."""
    ranges = {
        "det_threshold": (lambda v: 0.0 < v < 1.0, "in (0, 1)"),
        "det_box_threshold": (lambda v: 0.0 <= v < 1.0, "in [0, 1)"),
        "det_unclip_ratio": (lambda v: v > 0.0, "> 0"),
    }
    checked: dict[str, float] = {}
    for name, value in _header_settings(settings, CHECKPOINT_DETECTION_SETTINGS, where).items():
        number = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
        accepts, wanted = ranges[name]
        if not (number and accepts(float(value))):
            raise ValueError(f"{where}: {name} must be a number {wanted}, got {value!r}")
        checked[name] = float(value)
    return checked


# Settings a checkpoint may carry in its header ("batching": {name: value}) for how the engine batches its
# recognizer's lines. Why: the defaults above fit PP-OCRv6 small; a recognizer that is cheaper per input
# column pays the same fixed cost per call (at 1 thread ~10 ms, most of it oneDNN building the primitives of
# the call's new input shape), so it reads faster in fewer, fuller batches, and one with fewer classes can
# take wider batches for the same score-tensor memory. PP-OCRv6 tiny carries its own (see
# scripts/convert_checkpoint.py: TINY_BATCHING).
CHECKPOINT_BATCHING_SETTINGS = ("rec_batch_size", "rec_max_batch_pixels_width", "rec_call_overhead_columns")
# Bounds on a header's batching values (a checkpoint file must not make one call unbounded).
_BATCHING_RANGES = {
    "rec_batch_size": (1, 128),
    "rec_max_batch_pixels_width": (8 * 48, 25_600),
    "rec_call_overhead_columns": (0, 100_000),
}


def checked_batching_settings(settings: Any, where: str = "batching settings") -> dict[str, int]:
    """`settings` (a checkpoint header's "batching" object) as a dict of OcrConfig fields, or a ValueError
    saying what is wrong: only CHECKPOINT_BATCHING_SETTINGS, each an integer within its bounds."""
    checked: dict[str, int] = {}
    for name, value in _header_settings(settings, CHECKPOINT_BATCHING_SETTINGS, where).items():
        low, high = _BATCHING_RANGES[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{where}: {name} must be an integer in [{low}, {high}], got {value!r}")
        checked[name] = value
    return checked


def positive_int_from_env(name: str) -> int | None:
    """The environment variable `name` as a positive integer, None when unset or blank; a ValueError naming
    the variable for anything else."""
    raw_value = os.environ.get(name, "").strip()
    if not raw_value:
        return None
    try:
        value = int(raw_value)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {raw_value!r}")
    return value
