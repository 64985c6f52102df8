"""`OcrModel`: detection -> crops -> (orientation) -> recognition -> reading order.

The networks are constructor arguments, so the pipeline runs with the real PP-OCRv6
networks (`get_model()`) or with tiny stand-ins in tests. `OcrModel` keeps no per-call
state: one instance may serve many threads; per-call options go to `predict(**options)`.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from ..config import OcrConfig, positive_int_from_env
from ..runtime import configure_cpu_threads, select_device, select_precision, trim_heap
from ..types import Predictions, Word
from .crops import crop_quad, image_to_device, line_geometry
from .detection import (
    boxes_from_probabilities,
    detection_scale,
    keep_reasonable_quads,
    map_to_original,
    prepare_detection_input,
    resize_on_device,
    run_detection_network,
)
from .lines import DeviceLines, HostLines, LineSource
from .line_orientation import upside_down_probabilities
from .page_rotation import choose_rotation, rotate_image, rotate_predictions_back
from .reading_order import reading_order, reading_order_of_upside_down_page
from .recognition import LineReading, recognition_settings, recognize_lines
from .words import word_polygons

# Images whose sides are both below this cannot hold a readable line: empty result.
MIN_IMAGE_SIDE = 4
# Recognition input widths and batch sizes used on CUDA (wider lines: multiples of 8, rare).
WIDTH_BUCKETS = (192, 256, 320, 384, 448, 512, 640, 768, 896, 1024, 1280, 1536, 1792, 2048, 2560, 3200)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
# Detection input sizes warmed up on CUDA (receipts and pages at the probe and policy sizes).
WARM_UP_DETECTION_SIZES = ((960, 480), (960, 640), (960, 736), (1600, 800), (1600, 1216))


def as_rgb_uint8(image: Any) -> np.ndarray:
    """Validate `image` and return it as a C-contiguous HxWx3 uint8 RGB array.

    Accepted: HxWx3 uint8 RGB; HxW or HxWx1 uint8 gray (replicated to RGB); HxWx4 uint8
    RGBA (composited over white); a PIL image (converted to RGB). Anything else raises a
    ValueError that says what was wrong.
    """
    if hasattr(image, "convert") and hasattr(image, "mode"):  # PIL.Image.Image
        image = np.asarray(image.convert("RGB"))
    if not isinstance(image, np.ndarray):
        raise ValueError(f"image must be a numpy array (HxWx3 uint8 RGB), got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(
            f"image must have dtype uint8 (0-255), got {image.dtype}; "
            "for floats in [0, 1] use (image * 255).round().astype(np.uint8)"
        )
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3:
        raise ValueError(f"image must be HxWx3 (RGB), HxWx4 (RGBA) or HxW (gray), got shape {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image is empty (shape {image.shape})")
    channels = image.shape[2]
    if channels == 4:
        alpha = image[:, :, 3:4].astype(np.uint16)
        image = ((image[:, :, :3].astype(np.uint16) * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)
    elif channels != 3:
        raise ValueError(f"image must have 1, 3 or 4 channels, got {channels} (shape {image.shape})")
    return np.ascontiguousarray(image)


class OcrModel:
    """The OCR engine. Use `get_model()` for the shared instance with the real networks."""

    def __init__(
        self,
        detector: torch.nn.Module,
        recognizer: torch.nn.Module,
        characters: Sequence[str],
        orientation_classifier: torch.nn.Module | None = None,
        config: OcrConfig | None = None,
        device: str = "cpu",
        checkpoint: str = "",
    ) -> None:
        self.checkpoint = checkpoint  # the checkpoint's name, reported in every result
        self.detector = detector.eval()
        self.recognizer = recognizer.eval()
        self.orientation_classifier = orientation_classifier.eval() if orientation_classifier is not None else None
        self.characters = list(characters)
        self.config = config or OcrConfig()
        self.device = device
        # Recognition input widths on an accelerator: a bounded set of shapes, each warmed up
        # at load (see warm_up), instead of a new shape (and kernel selection) per width.
        accelerator = torch.device(device).type == "cuda"
        self.width_buckets: tuple[int, ...] = WIDTH_BUCKETS if accelerator else ()
        self.batch_buckets: tuple[int, ...] = BATCH_BUCKETS if accelerator else ()
        self._uploads = threading.local()  # per thread: the image of the running call, on the device

    def predict(self, image: Any, **options: Any) -> Predictions:
        """Read the text in one HxWx3 uint8 RGB image (see `as_rgb_uint8` for other inputs).

        Keyword options are `OcrConfig` field names (e.g. det_box_threshold=0.6,
        orientation="off", det_max_side=2048, page_rotation=90), applied to this call only.
        """
        return self.predict_batch([image], **options)[0]

    def predict_batch(self, images: Sequence[Any], **options: Any) -> list[Predictions]:
        """`predict` for each image, same options for all, with the lines of all images
        recognized (and checked for 180°) in shared batches: fuller, fewer network calls.

        Stage timings of the shared steps (crop, recognition, orientation) are split between
        the images in proportion to their line counts; "total" is each image's share too.
        """
        config = self.config.with_options(**options)
        started = time.perf_counter()
        pages = [self._locate(as_rgb_uint8(image), config) for image in images]
        shared: dict[str, float] = {}
        try:
            self._read_pages([page for page in pages if page.polygons], config, shared)
            for page in pages:
                if page.rotation_undecided and page.polygons:
                    self._settle_rotation(page, config)
        finally:
            self._uploads.image = None  # drop this thread's device copy of the last image
        memory_trim = None
        if config.trim_memory_after_call:
            mark = time.perf_counter()
            trim_heap()
            memory_trim = time.perf_counter() - mark
        elapsed = time.perf_counter() - started
        total_lines = sum(len(page.polygons) for page in pages)
        own_total = sum(page.seconds for page in pages)
        results = []
        for page in pages:
            timings = dict(page.timings)
            share = len(page.polygons) / total_lines if total_lines else 0.0
            for stage, seconds in shared.items():
                if share:
                    timings[stage] = timings.get(stage, 0.0) + seconds * share
            if memory_trim is not None:
                timings["memory_trim"] = memory_trim / len(pages)
            # This image's own stages plus its share of everything else in the call.
            timings["total"] = page.seconds + (elapsed - own_total) * (share if total_lines else 1.0 / len(pages))
            results.append(replace(page.result(timings, self.device), checkpoint=self.checkpoint))
        return results

    @torch.inference_mode()
    def warm_up(self) -> int:
        """Run the networks once at every recognition shape this model uses (width and batch
        buckets), a few detection sizes and every orientation batch bucket, so that no request
        pays for kernel selection or loading. Only meaningful with buckets (CUDA). Returns the
        number of network calls made."""
        device = torch.device(self.device)
        dtype = next(self.recognizer.parameters(), torch.empty(0)).dtype
        calls = 0
        for size in self.batch_buckets:
            for width in self.width_buckets:
                if size * width > 2 * self.config.rec_max_batch_pixels_width:
                    continue
                self.recognizer(torch.zeros((size, 3, self.config.rec_height, width), device=device, dtype=dtype))
                calls += 1
            if self.orientation_classifier is not None and size <= 32:
                self.orientation_classifier(torch.zeros((size, 3, 48, 192), device=device, dtype=dtype))
                calls += 1
        if self.width_buckets:
            for height, width in WARM_UP_DETECTION_SIZES:
                for shape in ((height, width), (width, height)):
                    self.detector(torch.zeros((1, 3, *shape), device=device, dtype=dtype))
                    calls += 1
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return calls

    def _locate(self, image: np.ndarray, config: OcrConfig) -> "_Page":
        """Detection for one image (turned first when the page rotation is given)."""
        started = time.perf_counter()
        height, width = image.shape[:2]
        page = _Page(
            original_size=(height, width),
            image=image,
            min_confidence=config.min_text_confidence,
            crop_padding=config.crop_padding,
        )
        if max(height, width) >= MIN_IMAGE_SIDE:
            manual = config.manual_rotation()
            page.rotation_undecided = manual is None
            if manual:
                page.rotation = manual
                page.image = rotate_image(image, manual)
            page.polygons = self._detect(page.image, config, page.timings)
        page.seconds = time.perf_counter() - started
        return page

    def _settle_rotation(self, page: "_Page", config: OcrConfig) -> None:
        """Decide the page rotation from the lines read as cut; when the page must be turned,
        detect and read it again upright."""
        started = time.perf_counter()
        rotation = choose_rotation(
            page.image,
            page.polygons,
            lambda crops: self._recognize(crops, config),
            sample_lines=config.page_rotation_sample_lines,
            margin=config.page_rotation_margin,
            padding=config.crop_padding,
            readings=page.as_cut if config.orientation != "all" else None,
        )
        page.timings["page_rotation"] = time.perf_counter() - started
        if rotation:
            page.rotation = rotation
            page.image = rotate_image(page.image, rotation)
            page.polygons = self._detect(page.image, config, page.timings)
            if page.polygons:
                own: dict[str, float] = {}
                self._read_pages([page], config, own)
                for stage, seconds in own.items():
                    page.timings[stage] = page.timings.get(stage, 0.0) + seconds
        page.seconds += time.perf_counter() - started

    def _read_pages(self, pages: list["_Page"], config: OcrConfig, timings: dict[str, float]) -> None:
        """Crop, (orientation), recognize the lines of all `pages` together; fills each page's
        readings and flipped lines."""
        if not pages:
            return
        mark = time.perf_counter()
        sources = [self._line_source(page.image, page.polygons, config) for page in pages]
        lines = sources[0]
        for source in sources[1:]:
            lines = lines + source
        timings["crop"] = time.perf_counter() - mark

        flipped_lines: list[int] = []
        if config.orientation == "all":
            mark = time.perf_counter()
            lines, flipped_lines = self._fix_orientation(lines, config)
            timings["orientation"] = time.perf_counter() - mark

        mark = time.perf_counter()
        readings = self._recognize(lines, config)
        as_cut = readings
        timings["recognition"] = time.perf_counter() - mark

        if config.orientation == "auto" and self.orientation_classifier is not None:
            mark = time.perf_counter()
            readings, flipped_lines = self._retry_upside_down(lines, readings, config)
            timings["orientation"] = time.perf_counter() - mark

        start = 0
        flipped = set(flipped_lines)
        for page in pages:
            end = start + len(page.polygons)
            page.readings = readings[start:end]
            page.as_cut = as_cut[start:end]
            page.flipped = [index - start for index in range(start, end) if index in flipped]
            start = end

    def _line_source(self, image: np.ndarray, polygons: list[np.ndarray], config: OcrConfig) -> LineSource:
        if self._device_pipeline(config):
            tensor = self._on_device(image)
            return DeviceLines([(tensor, line_geometry(polygon, config.crop_padding)) for polygon in polygons])
        return HostLines([crop_quad(image, polygon, config.crop_padding) for polygon in polygons])

    def _device_pipeline(self, config: OcrConfig) -> bool:
        """Crops and resizes as torch ops on the model's device (see OcrConfig.line_crops)."""
        if config.line_crops == "auto":
            return torch.device(self.device).type != "cpu"
        return config.line_crops == "torch"

    def _on_device(self, image: np.ndarray) -> torch.Tensor:
        """`image` uploaded once per call (the last one is kept per thread until the call ends)."""
        cached = getattr(self._uploads, "image", None)
        if cached is not None and cached[0] is image:
            return cached[1]
        tensor = image_to_device(image, self.device)
        self._uploads.image = (image, tensor)
        return tensor

    def _detect(self, image: np.ndarray, config: OcrConfig, timings: dict[str, float]) -> list[np.ndarray]:
        """Text polygons in original pixels. With `det_text_height`, a small probe pass measures
        the text and the full pass runs only at the size the text needs (see OcrConfig)."""
        height, width = image.shape[:2]
        policy_scale = detection_scale(height, width, config)
        probe_scale = min(policy_scale, config.det_probe_side / max(height, width)) if config.det_text_height else policy_scale
        polygons, heights = self._detect_at(image, config, probe_scale, timings, dilate=config.det_dilate and probe_scale >= policy_scale)
        if probe_scale >= policy_scale:
            return polygons
        # Line heights in probe pixels; too few lines to measure -> the policy size.
        wanted = policy_scale
        if len(heights) >= config.det_probe_min_lines:
            wanted = min(policy_scale, probe_scale * config.det_text_height / float(np.percentile(heights, config.det_probe_percentile)))
        if wanted <= probe_scale * config.det_probe_reuse:
            return polygons
        polygons, _ = self._detect_at(image, config, wanted, timings, dilate=config.det_dilate and wanted >= policy_scale)
        return polygons

    def _detect_at(
        self, image: np.ndarray, config: OcrConfig, scale: float, timings: dict[str, float], dilate: bool
    ) -> tuple[list[np.ndarray], list[float]]:
        height, width = image.shape[:2]
        mark = time.perf_counter()
        det_input = (
            resize_on_device(self._on_device(image), scale)
            if self._device_pipeline(config)
            else prepare_detection_input(image, config, scale)
        )
        timings["detection_preprocess"] = timings.get("detection_preprocess", 0.0) + time.perf_counter() - mark
        mark = time.perf_counter()
        probabilities = run_detection_network(self.detector, det_input.tensor)
        timings["detection"] = timings.get("detection", 0.0) + time.perf_counter() - mark
        mark = time.perf_counter()
        quads, _ = boxes_from_probabilities(probabilities, config, dilate=dilate)
        heights = [float(min(np.linalg.norm(q[0] - q[3]), np.linalg.norm(q[0] - q[1]))) for q in quads]
        polygons = map_to_original(quads, det_input.scale_x, det_input.scale_y, height, width)
        polygons, _ = keep_reasonable_quads(polygons, [0.0] * len(polygons))
        timings["detection_postprocess"] = timings.get("detection_postprocess", 0.0) + time.perf_counter() - mark
        return polygons, heights

    def _recognize(self, lines: LineSource | list[np.ndarray], config: OcrConfig) -> list[LineReading]:
        settings = recognition_settings(config)  # self.config holds the checkpoint's own settings (build_model)
        if self.width_buckets:
            settings["call_overhead"] = 0.0  # buckets fix the shapes anyway: plain filling there
        return recognize_lines(
            self.recognizer,
            lines,
            self.characters,
            **settings,
            width_buckets=self.width_buckets,
            batch_buckets=self.batch_buckets,
        )

    def _fix_orientation(self, lines: LineSource, config: OcrConfig) -> tuple[LineSource, list[int]]:
        """Turn by 180° the lines the classifier calls upside down; (lines, turned indices)."""
        if self.orientation_classifier is None or not len(lines):
            return lines, []
        probabilities = upside_down_probabilities(self.orientation_classifier, lines, self.batch_buckets)
        turned = [index for index, probability in enumerate(probabilities) if probability > config.orientation_threshold]
        if not turned:
            return lines, []
        return _replace_lines(lines, turned, lines.turned_180(turned)), turned

    def _retry_upside_down(
        self, lines: LineSource, readings: list[LineReading], config: OcrConfig
    ) -> tuple[list[LineReading], list[int]]:
        """Re-read doubtful lines rotated by 180° and keep the flipped read when it is better.

        Returns the readings and the indices of the lines that were flipped.

        The flip is accepted when the flipped read is more confident and either the classifier calls
        the line upside down or the flipped read wins by `orientation_reread_margin` (the small
        classifier misses some upside-down lines that the recognizer reads cleanly once flipped).
        The classifier only runs on the lines whose flipped read wins by no more than the margin: for the
        others its answer changes nothing. Why: most doubtful lines are upright and read worse flipped, and
        one classifier call cost ~15 ms of thread CPU however few lines it got (its 53 convolutions do not
        fit the capped oneDNN primitive cache, so each call builds them again): sroie-dev, 1 thread, mean
        per receipt 11 ms (small) and 18 ms (tiny), same texts.
        """
        doubtful = [i for i, reading in enumerate(readings) if reading.confidence < config.orientation_retry_below]
        if not doubtful:
            return readings, []
        rereadings = self._recognize(lines.turned_180(doubtful), config)
        gains = [rereading.confidence - readings[index].confidence for index, rereading in zip(doubtful, rereadings)]
        undecided = [k for k, gain in enumerate(gains) if 0 < gain <= config.orientation_reread_margin]
        upside_down: dict[int, float] = {}  # position in `doubtful` -> the classifier's probability
        if undecided:
            subset = _subset(lines, [doubtful[k] for k in undecided])
            upside_down = dict(zip(undecided, upside_down_probabilities(self.orientation_classifier, subset, self.batch_buckets)))
        improved = list(readings)
        flipped: list[int] = []
        for k, (index, rereading, gain) in enumerate(zip(doubtful, rereadings, gains)):
            classifier_agrees = upside_down.get(k, 0.0) > config.orientation_threshold
            if gain > 0 and (classifier_agrees or gain > config.orientation_reread_margin):
                improved[index] = rereading
                flipped.append(index)
        return improved, flipped


def _subset(lines: LineSource, indices: list[int]) -> LineSource:
    """The lines `indices` (turning twice by 180° is the identity, exactly)."""
    if isinstance(lines, HostLines):
        return HostLines([lines.crops[i] for i in indices])
    if isinstance(lines, DeviceLines):
        return DeviceLines([lines.entries[i] for i in indices])
    return lines.turned_180(indices).turned_180(list(range(len(indices))))


def _replace_lines(lines: LineSource, indices: list[int], replacements: LineSource) -> LineSource:
    if isinstance(lines, HostLines) and isinstance(replacements, HostLines):
        crops = list(lines.crops)
        for index, crop in zip(indices, replacements.crops):
            crops[index] = crop
        return HostLines(crops)
    if isinstance(lines, DeviceLines) and isinstance(replacements, DeviceLines):
        entries = list(lines.entries)
        for index, entry in zip(indices, replacements.entries):
            entries[index] = entry
        return DeviceLines(entries)
    raise TypeError(f"cannot mix {type(lines).__name__} and {type(replacements).__name__}")


@dataclass
class _Page:
    """One image of a predict_batch call on its way through the pipeline."""

    original_size: tuple[int, int]
    image: np.ndarray  # as read (turned upright when rotation != 0)
    rotation: int = 0
    polygons: list[np.ndarray] = field(default_factory=list)
    readings: list[LineReading] = field(default_factory=list)
    flipped: list[int] = field(default_factory=list)
    as_cut: list[LineReading] = field(default_factory=list)  # readings before any 180° re-read
    rotation_undecided: bool = False  # page_rotation "auto": decided after the first read
    timings: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0  # time spent on this image alone (detection, page rotation)
    min_confidence: float = 0.0  # config.min_text_confidence
    crop_padding: float = 0.0  # config.crop_padding (word polygons are measured in the padded crop)

    def result(self, timings: dict[str, float], device: str) -> Predictions:
        height, width = self.image.shape[:2]
        polygons, readings = self.polygons, self.readings
        if not polygons:
            return Predictions([], [], [], self.original_size, timings, device, rotation=self.rotation)
        flipped = set(self.flipped)
        kept = [
            index
            for index in (
                # Most lines turned by 180°: the page itself is upside down, so read it that way up.
                reading_order_of_upside_down_page(polygons, width, height)
                if 2 * len(flipped) > len(polygons)
                else reading_order(polygons)
            )
            if readings[index].text and readings[index].confidence >= self.min_confidence
        ]
        words = [
            tuple(
                Word(span.text, polygon, min(1.0, max(0.0, span.confidence)))
                for span, polygon in zip(
                    readings[index].words,
                    word_polygons(polygons[index], self.crop_padding, readings[index].words, index in flipped),
                )
            )
            for index in kept
        ]
        result = Predictions(
            polygons=[polygons[index] for index in kept],
            texts=[readings[index].text for index in kept],
            confidences=[min(1.0, max(0.0, readings[index].confidence)) for index in kept],
            image_size=(height, width),
            words=words,
        )
        if self.rotation:
            result = rotate_predictions_back(result, self.rotation, self.original_size)
        return replace(result, image_size=self.original_size, timings=timings, device=device, rotation=self.rotation)


DEFAULT_MAX_MODELS = 2  # checkpoints kept loaded at once (OCR_MAX_MODELS)
# (checkpoint key, device) -> model, least recently used first
_MODELS: OrderedDict[tuple[str, str], OcrModel] = OrderedDict()
_CACHE_LOCK = threading.Lock()  # guards _MODELS (held briefly)
_LOAD_LOCK = threading.Lock()  # one load at a time; requests for loaded models never wait for it


def build_model(
    device: str | None = None,
    config: OcrConfig | None = None,
    precision: torch.dtype | None = None,
    checkpoint: str | Path | None = None,
    threads: int | None = None,
) -> OcrModel:
    """A new OcrModel with the networks of `checkpoint` (a built-in name or a .safetensors path;
    default `OCR_CHECKPOINT`, else ppocrv6-small, whose weights come from the rapidocr package files).

    `device` defaults to `select_device()`; `threads` (on CPU: torch's process-wide intra-op threads)
    to `configure_cpu_threads()`'s default. `precision` is the networks' dtype (default:
    `select_precision(device)`); the pipeline around them always works in float32.

    A checkpoint's own recognition settings (its header's "recognition", e.g. a fine-tuned recognizer
    read without the space heuristic), detection settings (header "detection": ppocrv6-tiny's DB
    post-processing) and batching settings (header "batching": ppocrv6-tiny's fewer, fuller recognition
    batches) replace those fields of `config`; per-call options still win.
    Of the built-ins ppocrv6-tiny carries detection and batching settings and ppocrv6-small-receipts
    recognition settings."""
    from ..checkpoints import load_checkpoint
    from ..networks import load_orientation_classifier, prepare_for_inference
    from ..networks.compiled import compile_recognizer, compile_requested

    compiled = compile_requested()  # OCR_COMPILE: a bad value fails before anything loads
    device = select_device(device)
    precision = precision or select_precision(device)
    if device == "cpu":
        configure_cpu_threads(threads)
    loaded = load_checkpoint(checkpoint_name(checkpoint))
    channels_last = torch.device(device).type == "cpu"

    def ready(network: torch.nn.Module) -> torch.nn.Module:
        return prepare_for_inference(network, channels_last=channels_last).to(device=device, dtype=precision)

    recognizer = ready(loaded.recognizer)
    if compiled:  # opt-in: minutes of compiling here, at load, never in a request (networks/compiled.py)
        recognizer = compile_recognizer(recognizer, (config or OcrConfig()).rec_height)
    model = OcrModel(
        detector=ready(loaded.detector),
        recognizer=recognizer,
        characters=loaded.characters,
        # A checkpoint without its own line-orientation classifier uses the default one.
        orientation_classifier=ready(loaded.orientation or load_orientation_classifier()),
        config=(config or OcrConfig()).with_options(**loaded.detection, **loaded.batching, **loaded.recognition),
        device=device,
        checkpoint=loaded.name,
    )
    if torch.device(device).type == "cuda":
        model.warm_up()
    # Loading frees what it parsed (the small checkpoint is read from ONNX files) but glibc keeps those pages:
    # 51 MB of the process's 325 MB right after building ppocrv6-small, until the first request's trim.
    trim_heap()
    return model


def checkpoint_name(checkpoint: str | Path | None) -> str:
    """The cache key of a checkpoint: a built-in name as given, a file as its absolute path;
    None means `OCR_CHECKPOINT`, else the default."""
    from ..checkpoints import DEFAULT_CHECKPOINT, built_in_checkpoints

    if checkpoint is None:
        checkpoint = os.environ.get("OCR_CHECKPOINT", "").strip() or DEFAULT_CHECKPOINT
    name = str(checkpoint)
    if name in built_in_checkpoints():
        return name
    return str(Path(name).expanduser().resolve())


def max_models() -> int:
    """How many checkpoints stay loaded at once: `OCR_MAX_MODELS`, default 2."""
    return positive_int_from_env("OCR_MAX_MODELS") or DEFAULT_MAX_MODELS


def get_model(checkpoint: str | Path | None = None, device: str | None = None, threads: int | None = None) -> OcrModel:
    """The process-wide OcrModel of `checkpoint` on `device` (see `build_model`), loaded on first use
    (thread-safe). `threads` applies when a CPU model is loaded (torch's thread count is per process).

    One model per checkpoint and device, at most `max_models()` of them: loading another drops the least
    recently used (requests still running on it finish; the next one loads it again)."""
    # The device is an argument (callers such as bulk workers pass theirs) so nothing writes os.environ.
    key = (checkpoint_name(checkpoint), select_device(device))
    with _CACHE_LOCK:
        if key in _MODELS:
            _MODELS.move_to_end(key)
            return _MODELS[key]
    with _LOAD_LOCK:
        with _CACHE_LOCK:
            if key in _MODELS:  # loaded by another thread meanwhile
                _MODELS.move_to_end(key)
                return _MODELS[key]
        model = build_model(checkpoint=key[0], device=key[1], threads=threads)
        with _CACHE_LOCK:
            _MODELS[key] = model
            while len(_MODELS) > max_models():
                _MODELS.popitem(last=False)
    return model


def loaded_checkpoints() -> list[str]:
    """Keys of the checkpoints loaded now (see `checkpoint_name`), least recently used first."""
    with _CACHE_LOCK:
        return [name for name, _device in _MODELS]
