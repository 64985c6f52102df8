"""Where the engine's memory goes: peak RSS per pipeline stage, over real receipts and a large scan.

    python bench/memory_stages.py                       # sroie-dev + a generated 38 MP page
    python bench/memory_stages.py --tracemalloc         # + Python/numpy allocation peaks per stage (slower)
    python bench/memory_stages.py --torch-profile       # + torch.profiler memory of the networks on the scan
    python bench/memory_stages.py --images a.jpg b.png --repeat 2 --options '{"rec_max_batch_pixels_width": 3200}'

One process decodes each image (`read_image`, the command line's decoder), runs `get_model().predict`, and
exports the result (text, JSON, hOCR, searchable PDF). The pipeline's steps are wrapped where the predictor
calls them, and a sampler thread reads the process RSS (/proc/self/statm) every millisecond; each sample is
charged to the innermost running stage. Per stage the table gives:

- `peak RSS`: the highest RSS seen while that stage ran (max over images), MB;
- `rise`: that peak minus the RSS when the stage started (max over images): what the stage itself adds;
- `numpy peak` (with --tracemalloc): the peak of memory allocated through Python's allocators (numpy arrays
  included, torch tensors not) above what was live when the stage started.

`ru_maxrss` (the kernel's own high-water mark) is printed too, and the RSS after each image once the call
has trimmed the heap, so growth from image to image is visible.

Measured 2026-12-02 at main f8f0e74, `python bench/memory_stages.py` (this 2-core AMD EPYC has no native
bf16, so the networks ran in float32; 2 threads; load average 0.6 before, 14.7 after: other sessions were
running tests, so the seconds are inflated several times; memory figures are not affected by load):

    RSS: 51 MB at start, 237 MB after import torch, 354 MB after the model loads.
    stage                  calls  seconds peak RSS MB  rise MB
    decode                    20    11.76         931      469    (35 MP JPEG: Pillow 4-byte pixels + tobytes chunks + join + copy)
    input check               20     0.00         744        0
    detection preprocess      23     4.92         895       11
    detection network         23    73.48        1174      278    (activations at the detection size, <= 1600 px side)
    map postprocess           46     1.77        1107        3
    crops                   1236     3.04        1109        1
    recognition               34   555.22        1350      242    (160 long lines of the 38 MP page: (N, T, 18710) scores)
    orientation               11     3.49         875        6
    page rotation             20     9.80        1247       51
    heap trim                 20     2.49        1247        0
    exports                   20     8.67         909      354    (searchable PDF re-encodes the 35 MP image)
    predict (whole call)      20   646.80        1350      606
    ru_maxrss 1350 MB (on the generated 38 MP page); 985 MB over sroie-dev alone (peak on 530.jpg, 35 MP);
    RSS after a receipt 374 -> 466 MB over the pass, 604 MB after the 38 MP page.

Reading: the detection map is already at the detection size (never upscaled to the image); the peak is the
decoded full-size image held while the networks' activations and the recognizer's score tensors come and go,
and glibc keeping what they freed.
"""

from __future__ import annotations

import argparse
import functools
import gc
import io
import json
import os
import resource
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

MB = 1024 * 1024
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "eval" / "sroie-dev" / "img"
if not DEFAULT_DATA.is_dir():  # a worktree under /work/wt/<branch> sits one level deeper than /work/main
    DEFAULT_DATA = Path("/work/shared/eval/sroie-dev/img")


def rss_bytes() -> int:
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


@dataclass
class _Frame:
    name: str
    rss_at_start: int
    rss_peak: int
    traced_at_start: int = 0
    traced_peak: int = 0


@dataclass
class StageTotals:
    calls: int = 0
    seconds: float = 0.0
    peak_rss: int = 0
    rise: int = 0
    traced_rise: int = 0


@dataclass
class Recorder:
    """A stack of running stages; the sampler thread charges each RSS sample to the innermost one."""

    trace_python: bool = False
    stages: dict[str, StageTotals] = field(default_factory=dict)
    image_peaks: dict[str, int] = field(default_factory=dict)  # this image's peak RSS per stage
    _stack: list[_Frame] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start_sampler(self, interval: float = 0.001) -> threading.Thread:
        def sample() -> None:
            while not self._stop.is_set():
                value = rss_bytes()
                with self._lock:
                    if self._stack:
                        frame = self._stack[-1]
                        frame.rss_peak = max(frame.rss_peak, value)
                time.sleep(interval)

        thread = threading.Thread(target=sample, name="rss-sampler", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def enter(self, name: str) -> None:
        value = rss_bytes()
        traced = 0
        if self.trace_python:
            traced, traced_peak = tracemalloc.get_traced_memory()
            if self._stack:
                self._stack[-1].traced_peak = max(self._stack[-1].traced_peak, traced_peak)
            tracemalloc.reset_peak()
        with self._lock:
            if self._stack:
                self._stack[-1].rss_peak = max(self._stack[-1].rss_peak, value)
            self._stack.append(_Frame(name, value, value, traced, traced))

    def leave(self, seconds: float) -> None:
        value = rss_bytes()
        with self._lock:
            frame = self._stack.pop()
            frame.rss_peak = max(frame.rss_peak, value)
            if self._stack:  # the parent saw everything its child saw
                self._stack[-1].rss_peak = max(self._stack[-1].rss_peak, frame.rss_peak)
        if self.trace_python:
            frame.traced_peak = max(frame.traced_peak, tracemalloc.get_traced_memory()[1])
            if self._stack:
                self._stack[-1].traced_peak = max(self._stack[-1].traced_peak, frame.traced_peak)
            tracemalloc.reset_peak()
        self.image_peaks[frame.name] = max(self.image_peaks.get(frame.name, 0), frame.rss_peak)
        totals = self.stages.setdefault(frame.name, StageTotals())
        totals.calls += 1
        totals.seconds += seconds
        totals.peak_rss = max(totals.peak_rss, frame.rss_peak)
        totals.rise = max(totals.rise, frame.rss_peak - frame.rss_at_start)
        totals.traced_rise = max(totals.traced_rise, frame.traced_peak - frame.traced_at_start)

    def innermost_peak_stage(self) -> str:
        """The stage (not the whole call) in which this image's RSS peaked; the record is then cleared."""
        peaks = {name: value for name, value in self.image_peaks.items() if name != "predict (whole call)"}
        self.image_peaks = {}
        return max(peaks, key=peaks.get) if peaks else ""

    def wrap(self, name: str, function: Callable) -> Callable:
        @functools.wraps(function)
        def staged(*args, **kwargs):
            self.enter(name)
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.leave(time.perf_counter() - started)

        return staged

    def run(self, name: str, function: Callable, *args, **kwargs):
        return self.wrap(name, function)(*args, **kwargs)


# Where the predictor calls each step (names in ocr_model.pipeline.predictor), in pipeline order.
PIPELINE_STAGES = (
    ("as_rgb_uint8", "input check"),
    ("prepare_detection_input", "detection preprocess"),
    ("run_detection_network", "detection network"),
    ("boxes_from_probabilities", "map postprocess"),
    ("map_to_original", "map postprocess"),
    ("crop_quad", "crops"),
    ("recognize_lines", "recognition"),
    ("upside_down_probabilities", "orientation"),
    ("choose_rotation", "page rotation"),
    ("rotate_image", "page rotation"),
    ("trim_heap", "heap trim"),
)
STAGE_ORDER = (
    "decode", "input check", "detection preprocess", "detection network", "map postprocess", "crops",
    "recognition", "orientation", "page rotation", "heap trim", "exports", "predict (whole call)",
)


def instrument(recorder: Recorder) -> None:
    from ocr_model.pipeline import predictor

    for attribute, stage in PIPELINE_STAGES:
        if hasattr(predictor, attribute):
            setattr(predictor, attribute, recorder.wrap(stage, getattr(predictor, attribute)))


def scan_like_page(width: int, height: int, line_count: int, seed: int = 7) -> bytes:
    """A large scanned page: grey paper with faint noise, dark text lines in two columns, JPEG q85."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(seed)
    page = Image.fromarray(rng.normal(238, 6, (height, width)).clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(page)
    font_px = max(12, height // 110)
    try:
        font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", font_px)
    except OSError:
        font = ImageFont.load_default(size=font_px)
    words = "invoice total amount receipt cash change table coffee bread butter market street order".split()
    rows = line_count // 2
    pitch = (height - 4 * font_px) / rows
    for index in range(line_count):
        column, row = divmod(index, rows)
        text = " ".join(rng.choice(words, size=5)) + f" {int(rng.integers(10, 9999))}"
        draw.text((2 * font_px + column * width // 2, 2 * font_px + row * pitch), text, font=font, fill=25)
    buffer = io.BytesIO()
    page.convert("RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def export_all(predictions, image) -> None:
    from ocr_model.exporters import PdfPage, to_hocr, to_json, to_searchable_pdf, to_text

    to_text(predictions)
    to_json(predictions)
    to_hocr(predictions)
    to_searchable_pdf([PdfPage(image, predictions)])


def torch_profile(model, image) -> None:
    """The networks' own allocations on one image, from torch.profiler (CPU memory per op)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        model.predict(image)
    print("\ntorch.profiler, one predict on the largest image (top ops by self CPU memory):")
    print(prof.key_averages().table(sort_by="self_cpu_memory_usage", row_limit=12, max_name_column_width=40))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", nargs="*", type=Path, help="image files (default: sroie-dev's img/*.jpg)")
    parser.add_argument("--no-scan", action="store_true", help="leave out the generated 38 MP page")
    parser.add_argument("--repeat", type=int, default=1, help="passes over the images (growth shows in pass 2)")
    parser.add_argument("--tracemalloc", action="store_true", help="Python/numpy allocation peaks per stage")
    parser.add_argument("--torch-profile", action="store_true", help="torch.profiler memory on the largest image")
    parser.add_argument("--no-exports", action="store_true", help="skip the exports stage")
    parser.add_argument("--options", default="{}", help='JSON dict of predict() options, e.g. \'{"rec_batch_size": 8}\'')
    args = parser.parse_args()
    options = json.loads(args.options)

    paths = args.images if args.images else sorted(DEFAULT_DATA.glob("*.jpg"))
    sources: list[tuple[str, object]] = [(path.name, path) for path in paths]
    if not args.no_scan:
        sources.append(("generated-38MP.jpg", scan_like_page(7300, 5200, 160)))
    if not sources:
        sys.exit("no images: pass --images or put sroie-dev next to the repository")

    print(f"RSS at start {rss_bytes() / MB:.0f} MB", flush=True)
    import torch  # noqa: F401 (measured separately from the model)

    print(f"RSS after import torch {rss_bytes() / MB:.0f} MB", flush=True)
    from ocr_model import get_model
    from ocr_model.inputs.image_decode import read_image

    model = get_model()
    print(f"RSS after model load {rss_bytes() / MB:.0f} MB; precision "
          f"{next(model.recognizer.parameters()).dtype}, threads {torch.get_num_threads()}", flush=True)

    recorder = Recorder(trace_python=args.tracemalloc)
    instrument(recorder)
    if args.tracemalloc:
        tracemalloc.start()
    recorder.start_sampler()
    print(f"\n{'pass':>4} {'image':<22} {'MP':>6} {'lines':>5} {'seconds':>7} {'peak MB':>8} {'after MB':>8}  peak in")
    after_pass: list[float] = []
    largest = None
    for repeat in range(args.repeat):
        for name, source in sources:
            image = recorder.run("decode", read_image, source)
            megapixels = image.shape[0] * image.shape[1] / 1e6
            if largest is None or megapixels > largest[0]:
                largest = (megapixels, name)
            recorder.enter("predict (whole call)")
            started = time.perf_counter()
            predictions = model.predict(image, **options)
            seconds = time.perf_counter() - started
            recorder.leave(seconds)
            if not args.no_exports:
                recorder.run("exports", export_all, predictions, image)
            lines = len(predictions.texts)
            del image, predictions
            gc.collect()
            peak = max(recorder.image_peaks.values())
            stage = recorder.innermost_peak_stage()
            print(f"{repeat + 1:>4} {name:<22} {megapixels:6.1f} {lines:>5} {seconds:7.2f} "
                  f"{peak / MB:8.0f} {rss_bytes() / MB:8.0f}  {stage}", flush=True)
        after_pass.append(rss_bytes() / MB)
    recorder.stop()

    print(f"\n{'stage':<22} {'calls':>5} {'seconds':>8} {'peak RSS MB':>11} {'rise MB':>8}"
          + (f" {'numpy peak MB':>13}" if args.tracemalloc else ""))
    for stage in STAGE_ORDER:
        totals = recorder.stages.get(stage)
        if totals is None:
            continue
        row = (f"{stage:<22} {totals.calls:>5} {totals.seconds:8.2f} {totals.peak_rss / MB:11.0f} "
               f"{totals.rise / MB:8.0f}")
        if args.tracemalloc:
            row += f" {totals.traced_rise / MB:13.0f}"
        print(row)
    print(f"\nru_maxrss (process peak) {peak_rss_bytes() / MB:.0f} MB; RSS after each pass: "
          + ", ".join(f"{value:.0f}" for value in after_pass) + " MB")

    if args.torch_profile and largest is not None:
        source = dict(sources)[largest[1]]
        torch_profile(model, read_image(source))


if __name__ == "__main__":
    main()
