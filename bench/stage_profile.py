"""Where each checkpoint's time goes, stage by stage: thread CPU time, 1 thread, checkpoints interleaved.

    python bench/stage_profile.py --data ../shared/eval/sroie-dev [--checkpoints 'ppocrv6-small;ppocrv6-tiny']
    python bench/stage_profile.py --checkpoints 'ppocrv6-tiny;ppocrv6-tiny={"orientation": "off"}'  # A/B of options

One process loads every checkpoint (bf16 where the CPU has it, like the engine's default), then reads each
image with each checkpoint in turn (image 1 with A then B, image 2 with B then A, ...), so load drift and
cache state hit all alike. Each `predict` is timed with `time.thread_time()` (the calling thread's CPU
time: the steadiest measure on a shared machine) at `torch.set_num_threads(1)`, and so is every stage
inside it: the pipeline's functions are wrapped, and each stage's time is its own, without the stages it
calls (exclusive), so the stages of one image add up to its total. Stages are named by where they run:
"main read/" (the lines as cut), "180 re-read/" (doubtful lines checked and read turned), "page
rotation/", "probe pass/" and "full pass/" (detection at the probe size, then at the text's size).

Printed: per stage the mean over the images of each engine's seconds (so the stages add up to the mean
total) and their ratio; the mean and median totals; counts (lines read, their input columns, network calls,
detection megapixels) per phase; the per-image total ratio of two engines (median). `--dump` writes every
image's texts, stage times and counts as JSON (to compare two engine versions' texts).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bench"))


class StageClock:
    """Exclusive thread-CPU seconds per stage path, and event counts, for the running image."""

    def __init__(self) -> None:
        self.stack: list[list] = []  # [name, started, children's seconds]
        self.seconds: dict[str, float] = defaultdict(float)
        self.counts: dict[str, float] = defaultdict(float)
        self.phase = ""

    def reset(self) -> None:
        self.seconds = defaultdict(float)
        self.counts = defaultdict(float)

    def wrap(self, name: str, function, phase: str | None = None):
        @functools.wraps(function)
        def timed(*args, **kwargs):
            previous_phase = self.phase
            if phase is not None:
                self.phase = phase
            self.stack.append([name, time.thread_time(), 0.0])
            try:
                return function(*args, **kwargs)
            finally:
                entry = self.stack.pop()
                spent = time.thread_time() - entry[1]
                label = f"{self.phase}/{name}" if self.phase else name
                self.seconds[label] += spent - entry[2]
                if self.stack:
                    self.stack[-1][2] += spent
                self.phase = previous_phase

        timed._stage_clock = True
        return timed


def counting(clock: StageClock, label: str, function):
    def counted(*args, **kwargs):
        clock.counts[f"{clock.phase}/{label} calls"] += 1
        return function(*args, **kwargs)

    return counted


def instrument(clock: StageClock, model) -> None:
    """Wrap the pipeline's stages (module functions, model methods, network forwards) with `clock`."""
    from ocr_model.pipeline import lines, page_rotation, predictor, recognition

    for name in (
        "as_rgb_uint8", "prepare_detection_input", "run_detection_network", "boxes_from_probabilities",
        "map_to_original", "keep_reasonable_quads", "crop_quad", "upside_down_probabilities",
        "reading_order", "reading_order_of_upside_down_page", "word_polygons", "trim_heap", "rotate_image",
    ):
        if not getattr(getattr(predictor, name), "_stage_clock", False):
            setattr(predictor, name, clock.wrap(name, getattr(predictor, name)))
    for module, name in ((page_rotation, "crop_quad"), (page_rotation, "rotate_180"),
                         (recognition, "plan_batches"), (recognition, "greedy_path"),
                         (recognition, "fused_greedy_path"),
                         (recognition, "decode_line"), (lines, "prepare_line_batch")):
        if not getattr(getattr(module, name), "_stage_clock", False):
            setattr(module, name, clock.wrap(name, getattr(module, name)))
    if not getattr(predictor.recognize_lines, "_stage_clock", False):
        original = predictor.recognize_lines

        def counted(network, crops, characters, **kwargs):
            source = lines.as_line_source(crops)
            clock.counts[f"{clock.phase}/lines"] += len(source)
            height = kwargs.get("height", 48)
            clock.counts[f"{clock.phase}/line columns"] += sum(
                max(1, int(np.ceil(height * w / h))) for w, h in source.sizes()
            )
            return original(network, source, characters, **kwargs)

        predictor.recognize_lines = clock.wrap("recognize_lines", counted)
    # predict_batch's own body (result assembly) and each phase.
    cls = predictor.OcrModel
    phases = {"_detect": None, "_read_pages": "main read", "_retry_upside_down": "180 re-read", "_settle_rotation": "page rotation"}
    for method, phase in phases.items():
        if not getattr(getattr(cls, method), "_stage_clock", False):
            setattr(cls, method, clock.wrap(method, getattr(cls, method), phase))
    if not getattr(cls._detect_at, "_stage_clock", False):
        original_at = cls._detect_at

        @functools.wraps(original_at)
        def detect_at(self, image, config, scale, timings, dilate):
            passes = clock.counts["detection passes"]
            clock.counts["detection passes"] += 1
            phase = "probe pass" if passes == 0 else "full pass"
            height, width = image.shape[:2]
            from ocr_model.pipeline.detection import scaled_size

            h, w = scaled_size(height, width, scale)
            clock.counts[f"{phase}/detection MP"] += h * w / 1e6
            previous, clock.phase = clock.phase, phase
            try:
                return original_at(self, image, config, scale, timings, dilate)
            finally:
                clock.phase = previous

        detect_at._stage_clock = True
        cls._detect_at = detect_at
    if not getattr(predictor._Page.result, "_stage_clock", False):
        predictor._Page.result = clock.wrap("result (order, words)", predictor._Page.result)
    for attribute, label in (("detector", "detection network"), ("recognizer", "recognition network"),
                             ("orientation_classifier", "orientation network")):
        network = getattr(model, attribute)
        if network is not None and "forward" not in network.__dict__:
            network.forward = clock.wrap(label, counting(clock, label, network.forward))
            if hasattr(network, "step_features"):  # the recognizer without its class scores (the fused path)
                network.step_features = clock.wrap(label, counting(clock, label, network.step_features))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "eval" / "sroie-dev")
    parser.add_argument("--checkpoints", default="ppocrv6-small;ppocrv6-tiny",
                        help="';'-separated engines, each CHECKPOINT or CHECKPOINT=JSON (predict options for it alone), "
                        "e.g. 'ppocrv6-tiny;ppocrv6-tiny={\"orientation\": \"off\"}'")
    parser.add_argument("--images", default=None, help="comma list of image names (default: all)")
    parser.add_argument("--options", default="{}", help="JSON predict() options for every checkpoint")
    parser.add_argument("--dump", type=Path, default=None)
    args = parser.parse_args()

    import torch

    from bench_sroie import decode_rgb, image_names
    from ocr_model.pipeline.predictor import build_model

    torch.set_num_threads(1)
    load_before = os.getloadavg()
    names = image_names(args.data, None, args.images)
    checkpoints = [entry.strip() for entry in args.checkpoints.split(";") if entry.strip()]
    if len(set(checkpoints)) != len(checkpoints):
        raise SystemExit("--checkpoints: each engine once")
    engine_options = {
        entry: {**json.loads(args.options), **(json.loads(entry.split("=", 1)[1]) if "=" in entry else {})}
        for entry in checkpoints
    }
    clock = StageClock()
    models = {entry: build_model(checkpoint=entry.split("=", 1)[0], threads=1) for entry in checkpoints}
    for model in models.values():
        instrument(clock, model)
    first = decode_rgb(args.data / "img" / f"{names[0]}.jpg")
    for name, model in models.items():  # warm-up, untimed
        model.predict(first, **engine_options[name])

    records: dict[str, list[dict]] = {name: [] for name in checkpoints}
    for position, image_name in enumerate(names):
        image = decode_rgb(args.data / "img" / f"{image_name}.jpg")
        order = checkpoints if position % 2 == 0 else checkpoints[::-1]
        for name in order:
            clock.reset()
            started = time.thread_time()
            prediction = models[name].predict(image, **engine_options[name])
            total = time.thread_time() - started
            stages = dict(clock.seconds)
            stages["(unwrapped rest)"] = total - sum(stages.values())
            records[name].append(
                {"image": image_name, "total": total, "stages": stages, "counts": dict(clock.counts),
                 "texts": prediction.texts, "rotation": prediction.rotation}
            )
        print(f"{image_name}: " + "  ".join(f"{records[name][-1]['total']:.3f}s" for name in checkpoints), flush=True)

    print("load average before %.2f %.2f %.2f, after %.2f %.2f %.2f" % (*load_before, *os.getloadavg()))
    for index, name in enumerate(checkpoints):
        print(f"engine {index + 1}: {name}")
    stage_names = sorted({stage for rows in records.values() for row in rows for stage in row["stages"]})
    count_names = sorted({count for rows in records.values() for row in rows for count in row["counts"]})

    def mean(name: str, key: str, field: str) -> float:
        return statistics.fmean(row[key].get(field, 0.0) for row in records[name])

    pair = len(checkpoints) == 2
    print(f"{'stage: thread CPU s per image, mean over images':52s}" + "".join(f"{'engine ' + str(i + 1):>15s}" for i in range(len(checkpoints)))
          + (f"{'ratio':>8s}" if pair else ""))
    for stage in sorted(stage_names, key=lambda s: -mean(checkpoints[0], "stages", s)):
        values = [mean(name, "stages", stage) for name in checkpoints]
        if max(values) < 5e-5:
            continue
        line = f"{stage:52s}" + "".join(f"{value:15.4f}" for value in values)
        if pair:
            line += f"{values[0] / values[1]:8.2f}" if values[1] > 0 else f"{'-':>8s}"
        print(line)
    for label, summary in (("TOTAL, mean", statistics.fmean), ("TOTAL, median", statistics.median)):
        values = [summary(row["total"] for row in records[name]) for name in checkpoints]
        print(f"{label:52s}" + "".join(f"{value:15.4f}" for value in values) + (f"{values[0] / values[1]:8.2f}" if pair else ""))
    for count in count_names:
        print(f"{'count (mean): ' + count:52s}" + "".join(f"{mean(name, 'counts', count):15.2f}" for name in checkpoints))
    if pair:
        ratios = [a["total"] / b["total"] for a, b in zip(records[checkpoints[0]], records[checkpoints[1]])]
        print(f"per-image time ratio engine 1 / engine 2: median {statistics.median(ratios):.3f} "
              f"(min {min(ratios):.3f}, max {max(ratios):.3f})")
    if args.dump:
        args.dump.write_text(json.dumps(records, indent=1))


if __name__ == "__main__":
    main()
