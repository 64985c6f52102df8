"""One-command check of the engine on an accelerator (runs on the CPU too), in under 5 minutes.

    python bench/gpu_check.py                       # CUDA, sroie-dev from ../shared/eval/sroie-dev
    python bench/gpu_check.py --device cpu --limit 2 --generated   # plumbing check, no GPU

Prints, for the engine on --device (default settings for that device: buckets, warm-up,
device crops on CUDA):
- model load time (including the warm-up over the bucketed shapes on CUDA);
- first pass after load: median ms per receipt over the images, each read once;
- steady state: median (and p90) ms per receipt over --repeats more passes;
- word F1 against the ground truth for this device and for the CPU engine on the same
  images, and their difference (target: within 0.002);
- predict_batch throughput vs a loop of predict (images/s, same images);
- peak GPU memory allocated.
Images: sroie-dev (img/NAME.jpg + box/NAME.csv) when present, else (or with --generated)
synthetic receipts made here, with their lines as ground truth.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "eval" / "sroie-dev"
TARGETS = {"steady_ms": 40.0, "first_over_steady": 2.0, "f1_difference": 0.002, "batch_speedup": 3.0}


def _bench_sroie():
    spec = importlib.util.spec_from_file_location("bench_sroie", Path(__file__).with_name("bench_sroie.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generated_receipts(count: int, seed: int = 0) -> list[tuple[str, np.ndarray, list[str]]]:
    """(name, RGB image, lines) of synthetic receipts: varied sizes, fonts and line lengths."""
    rng = np.random.default_rng(seed)
    words = ["TOTAL", "RM", "CASH", "CHANGE", "GST", "Invoice", "Qty", "Price", "Thank", "you", "Table", "Tel:"]
    receipts = []
    for index in range(count):
        font_size = int(rng.integers(18, 34))
        rows = int(rng.integers(6, 14))
        width = int(rng.integers(420, 760))
        height = 40 + rows * int(font_size * 1.9)
        image = Image.new("RGB", (width, height), (245, 245, 240))
        draw = ImageDraw.Draw(image)
        font = ImageFont.load_default(size=font_size)
        lines = []
        for row in range(rows):
            text = " ".join(rng.choice(words, size=int(rng.integers(1, 4)))) + f" {rng.integers(1, 999)}.{rng.integers(0, 99):02d}"
            draw.text((20, 20 + row * int(font_size * 1.9)), text, fill=(25, 25, 25), font=font)
            lines.append(text)
        receipts.append((f"gen{index:03d}", np.asarray(image), lines))
    return receipts


def sroie_receipts(data: Path, limit: int | None, bench) -> list[tuple[str, np.ndarray, list[str]]]:
    return [
        (name, bench.decode_rgb(data / "img" / f"{name}.jpg"), [text for _, text in bench.load_ground_truth(data / "box" / f"{name}.csv")])
        for name in bench.image_names(data, limit)
    ]


def word_f1(predictions, receipts, bench) -> float:
    hits = predicted = expected = 0
    for prediction, (_, _, lines) in zip(predictions, receipts):
        truth, found = bench.tokens(lines), bench.tokens(list(prediction.texts))
        hits += sum((truth & found).values())
        predicted += sum(found.values())
        expected += sum(truth.values())
    precision, recall = bench.ratio(hits, predicted), bench.ratio(hits, expected)
    return bench.ratio(2 * precision * recall, precision + recall)


def timed_pass(model, images, sync) -> tuple[list[float], list]:
    seconds, predictions = [], []
    for image in images:
        sync()
        started = time.perf_counter()
        predictions.append(model.predict(image))
        sync()
        seconds.append(time.perf_counter() - started)
    return seconds, predictions


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="torch device of the engine under test (default cuda)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="SROIE-layout folder (default ../shared/eval/sroie-dev)")
    parser.add_argument("--generated", action="store_true", help="use synthetic receipts even if --data exists")
    parser.add_argument("--limit", type=int, default=None, help="only the first N images (generated: N images, default 12)")
    parser.add_argument("--repeats", type=int, default=3, help="steady-state passes over the images")
    parser.add_argument("--budget", type=float, default=240.0, help="seconds; fewer steady passes when the time runs out")
    parser.add_argument("--no-cpu-reference", action="store_true", help="skip the CPU engine's word F1")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    sys.path.insert(0, str(REPO_ROOT))
    import torch

    from ocr_model.pipeline.predictor import build_model

    bench = _bench_sroie()
    if not args.generated and (args.data / "img").is_dir():
        receipts = sroie_receipts(args.data, args.limit, bench)
        source = str(args.data)
    else:
        receipts = generated_receipts(args.limit or 12)
        source = "generated receipts"
    images = [image for _, image, _ in receipts]
    device = torch.device(args.device)
    cuda = device.type == "cuda"

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize(device)

    print(f"{len(images)} images ({source}); device {args.device}"
          + (f" ({torch.cuda.get_device_name(device)})" if cuda else ""))
    mark = time.perf_counter()
    model = build_model(args.device)
    sync()
    load_seconds = time.perf_counter() - mark
    precision = next(model.recognizer.parameters()).dtype
    print(f"model load (with warm-up on CUDA): {load_seconds:.2f} s, precision {str(precision).replace('torch.', '')}")

    first, predictions = timed_pass(model, images, sync)
    steady: list[float] = []
    for _ in range(max(1, args.repeats)):
        seconds, predictions = timed_pass(model, images, sync)
        steady += seconds
        if time.perf_counter() - started > args.budget * 0.5:
            break
    first_ms, steady_ms = 1000 * statistics.median(first), 1000 * statistics.median(steady)
    p90_ms = 1000 * float(np.percentile(steady, 90))
    f1 = word_f1(predictions, receipts, bench)
    print(f"first pass after load: median {first_ms:.1f} ms per image ({first_ms / steady_ms:.2f}x steady)")
    print(f"steady state: median {steady_ms:.1f} ms per image, p90 {p90_ms:.1f} ms ({len(steady)} calls)")

    mark = time.perf_counter()
    for image in images:
        model.predict(image)
    sync()
    loop_seconds = time.perf_counter() - mark
    mark = time.perf_counter()
    batched = model.predict_batch(images)
    sync()
    batch_seconds = time.perf_counter() - mark
    batch_f1 = word_f1(batched, receipts, bench)
    print(
        f"throughput: loop {len(images) / loop_seconds:.2f} images/s, predict_batch {len(images) / batch_seconds:.2f} images/s "
        f"({loop_seconds / batch_seconds:.2f}x); predict_batch word F1 {batch_f1:.4f}"
    )

    result = {
        "images": len(images),
        "load_seconds": load_seconds,
        "first_ms": first_ms,
        "steady_ms": steady_ms,
        "p90_ms": p90_ms,
        "word_f1": f1,
        "batch_speedup": loop_seconds / batch_seconds,
        "batch_word_f1": batch_f1,
    }
    if cuda:
        result["peak_gpu_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
        print(f"GPU memory: peak allocated {result['peak_gpu_mib']:.0f} MiB, now {torch.cuda.memory_allocated(device) / 2**20:.0f} MiB")
    if not args.no_cpu_reference:
        reference = model if device.type == "cpu" else build_model("cpu")
        _, cpu_predictions = timed_pass(reference, images, lambda: None)
        result["cpu_word_f1"] = word_f1(cpu_predictions, receipts, bench)
        result["f1_difference"] = f1 - result["cpu_word_f1"]
        print(f"word F1: {args.device} {f1:.4f}, cpu {result['cpu_word_f1']:.4f}, difference {result['f1_difference']:+.4f}")
    else:
        print(f"word F1: {args.device} {f1:.4f}")
    if cuda:
        checks = [
            ("steady median <= 40 ms", steady_ms <= TARGETS["steady_ms"]),
            ("first pass <= 2x steady", first_ms <= TARGETS["first_over_steady"] * steady_ms),
            ("predict_batch >= 3x loop", result["batch_speedup"] >= TARGETS["batch_speedup"]),
        ]
        if "f1_difference" in result:
            checks.append(("|F1 - CPU F1| <= 0.002", abs(result["f1_difference"]) <= TARGETS["f1_difference"]))
        print("targets: " + ", ".join(f"{name}: {'met' if ok else 'NOT met'}" for name, ok in checks))
    print(f"done in {time.perf_counter() - started:.0f} s")
    return result


if __name__ == "__main__":
    main()
