"""SROIE-style benchmark: this engine against RapidOCR (onnxruntime), side by side.

    python bench/bench_sroie.py --data ../shared/eval/sroie-dev

Folder layout: img/NAME.jpg and box/NAME.csv (lines "x1,y1,x2,y2,x3,y3,x4,y4,TEXT").

Each engine runs in its own subprocess (so its peak RSS is its own); the images are fed
to the engines interleaved (image 1 to A, image 1 to B, image 2 to A, ...) so that load
drift on a shared machine affects both alike. Images are decoded the same way (PIL ->
RGB uint8; RapidOCR gets the same pixels in BGR order, as its numpy input expects).
Timing covers the engine call only, not the JPEG decode; each engine is warmed up with
one untimed call on the first image (RapidOCR loads its models lazily).

Metrics, over all images:
- word precision / recall / F1: multisets of upper-cased whitespace tokens per image
  (SROIE task 2 style), counts summed over images;
- line detection precision / recall: one-to-one greedy matching of polygons at IoU >= 0.5;
- median / mean seconds per image, peak RSS (MiB) of the engine's process.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parent.parent
IOU_MATCH = 0.5


def load_ground_truth(box_file: Path) -> list[tuple[np.ndarray, str]]:
    """(4x2 polygon, text) per line; the text may contain commas (split on the first 8)."""
    lines = []
    for raw in box_file.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = raw.strip().lstrip("\ufeff").split(",", 8)
        if len(parts) < 9:
            continue
        try:
            coords = np.array([float(value) for value in parts[:8]], dtype=np.float64).reshape(4, 2)
        except ValueError:
            continue
        lines.append((coords, parts[8]))
    return lines


def image_names(data_dir: Path, limit: int | None, only: str | None = None) -> list[str]:
    """Names with an img/NAME.jpg and a box/NAME.csv, sorted; `only` (comma list) keeps those names (an
    unknown one is an error, so a typo cannot shrink the set silently); `limit` then keeps the first N."""
    names = sorted(path.stem for path in (data_dir / "img").glob("*.jpg") if (data_dir / "box" / f"{path.stem}.csv").exists())
    if only:
        wanted = [name.strip() for name in only.split(",") if name.strip()]
        missing = [name for name in wanted if name not in names]
        if missing:
            raise SystemExit(f"--images: no img/NAME.jpg with box/NAME.csv under {data_dir} for {', '.join(missing)}")
        names = [name for name in names if name in set(wanted)]
    return names[:limit] if limit else names


def decode_rgb(path: Path) -> np.ndarray:
    """The file's RGB pixels (Pillow), copied out a band of rows at a time, the way this project's decoder
    (`ocr_model.inputs.image_decode`, not imported here: it would load torch into RapidOCR's process) does.

    Why not `np.asarray(image.convert("RGB"))`: that holds Pillow's 4-byte pixels, their RGB copy,
    `tobytes`' chunks and their join at once; on sroie-dev's 35 MP scans it raised the process peak by
    467 MB, against 236 MB band by band, and that peak was the bench's own, charged to every engine. Same
    pixels (checked on sroie-dev).
    """
    with Image.open(path) as image:
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        width, height = rgb.size
        pixels = np.empty((height, width, 3), dtype=np.uint8)
        rows = max(1, (1 << 20) // (4 * width))  # about 1 MB of Pillow's pixels per band
        for top in range(0, height, rows):
            with rgb.crop((0, top, width, min(height, top + rows))) as band:
                pixels[top : top + band.height] = np.asarray(band)
        if rgb is not image:
            rgb.close()
    return pixels


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


# ----------------------------------------------------------------------------- engines


def make_ours(options: dict, checkpoint: str | None = None):
    sys.path.insert(0, str(REPO_ROOT))
    from ocr_model import get_model

    model = get_model(checkpoint)

    def run(image_rgb: np.ndarray):
        predictions = model.predict(image_rgb, **options)
        return [np.asarray(p, dtype=np.float64) for p in predictions.polygons], list(predictions.texts)

    return run, model.device


def make_rapidocr(options: dict):
    from rapidocr import RapidOCR

    engine = RapidOCR(params={"Global.log_level": "error"})

    def run(image_rgb: np.ndarray):
        image_bgr = image_rgb[:, :, ::-1].copy()  # RapidOCR treats numpy input as BGR
        return run_bgr(image_bgr)

    def run_bgr(image_bgr: np.ndarray):
        result = engine(image_bgr)
        if result.boxes is None or result.txts is None:
            return [], []
        return [np.asarray(box, dtype=np.float64) for box in result.boxes], list(result.txts)

    run.prepare = lambda image_rgb: image_rgb[:, :, ::-1].copy()
    run.call_prepared = run_bgr
    return run, "cpu (onnxruntime)"


def make_factory(spec: str, options: dict):
    """--factory module:function returning an OcrModel-like object (for development)."""
    module_name, function_name = spec.split(":")
    sys.path.insert(0, str(REPO_ROOT))
    module = __import__(module_name, fromlist=[function_name])
    model = getattr(module, function_name)()

    def run(image_rgb: np.ndarray):
        predictions = model.predict(image_rgb, **options)
        return [np.asarray(p, dtype=np.float64) for p in predictions.polygons], list(predictions.texts)

    return run, getattr(model, "device", "?")


def worker(engine: str, data_dir: Path, options: dict, factory: str | None) -> None:
    """Serve one engine: read image names from stdin, answer one JSON line per image.

    The protocol goes through a private copy of stdout; the real stdout is pointed at
    stderr so that anything the engine prints cannot corrupt it.
    """
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    started = time.perf_counter()
    if factory:
        run, device = make_factory(factory, options)
    elif engine == "ours" or engine.startswith("ours:"):
        run, device = make_ours(options, engine.split(":", 1)[1] if ":" in engine else None)
    else:
        run, device = make_rapidocr(options)
    prepare = getattr(run, "prepare", None)
    call = getattr(run, "call_prepared", run)
    load_seconds = time.perf_counter() - started
    rss_after_load = peak_rss_mib()
    label = engine if not factory else f"{engine} ({factory})"
    protocol.write(json.dumps({"engine": label, "device": device, "load_seconds": load_seconds, "rss_after_load_mib": rss_after_load}) + "\n")

    warmed = False
    for line in sys.stdin:
        name = line.strip()
        if not name:
            break
        image = decode_rgb(data_dir / "img" / f"{name}.jpg")
        engine_input = prepare(image) if prepare else image
        del image
        if not warmed:  # first call loads lazily-built parts (RapidOCR's sessions)
            call(engine_input)
            warmed = True
        tick = time.perf_counter()
        polygons, texts = call(engine_input)
        seconds = time.perf_counter() - tick
        del engine_input
        result = {"name": name, "seconds": seconds, "texts": texts, "polygons": [p.tolist() for p in polygons]}
        protocol.write(json.dumps(result) + "\n")
    protocol.write(json.dumps({"peak_rss_mib": peak_rss_mib()}) + "\n")


class EngineProcess:
    """One engine in its own Python process (so its peak RSS is its own)."""

    def __init__(self, engine: str, args: argparse.Namespace) -> None:
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", engine, "--data", str(args.data), "--options", args.options]
        if engine == "ours" and args.factory:
            command += ["--factory", args.factory]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.report = self._read()
        self.report["images"] = {}

    def _read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"engine process exited early (code {self.process.wait()})")
        return json.loads(line)

    def read_image(self, name: str) -> None:
        self.process.stdin.write(name + "\n")
        self.process.stdin.flush()
        result = self._read()
        self.report["images"][result.pop("name")] = result

    def finish(self) -> dict:
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        self.report.update(self._read())
        self.process.wait()
        return self.report


# ----------------------------------------------------------------------------- metrics


def tokens(texts: list[str]) -> collections.Counter:
    return collections.Counter(token for text in texts for token in text.upper().split())


def polygon_iou(a: np.ndarray, b: np.ndarray) -> float:
    from shapely.geometry import Polygon

    poly_a, poly_b = Polygon(a).buffer(0), Polygon(b).buffer(0)
    if poly_a.is_empty or poly_b.is_empty:
        return 0.0
    union = poly_a.union(poly_b).area
    return float(poly_a.intersection(poly_b).area / union) if union > 0 else 0.0


def matched_lines(truth: list[np.ndarray], predicted: list[np.ndarray]) -> int:
    """One-to-one greedy matching by descending IoU, pairs with IoU >= 0.5."""
    pairs = []
    for i, gt in enumerate(truth):
        gt_box = (gt[:, 0].min(), gt[:, 1].min(), gt[:, 0].max(), gt[:, 1].max())
        for j, pred in enumerate(predicted):
            if pred[:, 0].min() > gt_box[2] or pred[:, 0].max() < gt_box[0]:
                continue
            if pred[:, 1].min() > gt_box[3] or pred[:, 1].max() < gt_box[1]:
                continue
            iou = polygon_iou(gt, pred)
            if iou >= IOU_MATCH:
                pairs.append((iou, i, j))
    used_gt, used_pred = set(), set()
    for _, i, j in sorted(pairs, reverse=True):
        if i not in used_gt and j not in used_pred:
            used_gt.add(i)
            used_pred.add(j)
    return len(used_gt)


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def score(report: dict, data_dir: Path, names: list[str]) -> dict:
    true_pos = n_pred = n_true = 0
    lines_matched = lines_pred = lines_true = 0
    per_image = {}
    for name in names:
        truth = load_ground_truth(data_dir / "box" / f"{name}.csv")
        result = report["images"][name]
        truth_tokens, pred_tokens = tokens([text for _, text in truth]), tokens(result["texts"])
        hits = sum((truth_tokens & pred_tokens).values())
        true_pos += hits
        n_pred += sum(pred_tokens.values())
        n_true += sum(truth_tokens.values())
        predicted = [np.asarray(p) for p in result["polygons"]]
        matched = matched_lines([poly for poly, _ in truth], predicted)
        lines_matched += matched
        lines_pred += len(predicted)
        lines_true += len(truth)
        per_image[name] = {
            "f1": ratio(2 * hits, sum(truth_tokens.values()) + sum(pred_tokens.values())),
            "seconds": result["seconds"],
        }
    precision, recall = ratio(true_pos, n_pred), ratio(true_pos, n_true)
    seconds = [result["seconds"] for result in report["images"].values()]
    return {
        "word_precision": precision,
        "word_recall": recall,
        "word_f1": ratio(2 * precision * recall, precision + recall),
        "line_precision": ratio(lines_matched, lines_pred),
        "line_recall": ratio(lines_matched, lines_true),
        "median_seconds": statistics.median(seconds),
        "mean_seconds": statistics.mean(seconds),
        "peak_rss_mib": report["peak_rss_mib"],
        "rss_after_load_mib": report["rss_after_load_mib"],
        "load_seconds": report["load_seconds"],
        "per_image": per_image,
    }


def print_table(rows: list[tuple[str, dict, dict]]) -> None:
    header = f"{'engine':<34} {'word P':>7} {'word R':>7} {'word F1':>7} {'line P':>7} {'line R':>7} {'med s':>7} {'mean s':>7} {'peakRSS MiB':>11}"
    print(header)
    print("-" * len(header))
    for label, metrics, _ in rows:
        print(
            f"{label:<34} {metrics['word_precision']:7.3f} {metrics['word_recall']:7.3f} {metrics['word_f1']:7.3f} "
            f"{metrics['line_precision']:7.3f} {metrics['line_recall']:7.3f} {metrics['median_seconds']:7.3f} "
            f"{metrics['mean_seconds']:7.3f} {metrics['peak_rss_mib']:11.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "eval" / "sroie-dev")
    parser.add_argument(
        "--engines", default="ours,rapidocr",
        help="comma list of: ours, ours:CHECKPOINT (a built-in name or .safetensors path), rapidocr; ratios are against the last",
    )
    parser.add_argument("--limit", type=int, default=None, help="only the first N images")
    parser.add_argument("--images", default=None, help="only these images: comma list of names, e.g. 003,065 (a held-out split)")
    parser.add_argument("--options", default="{}", help='JSON dict of predict() options for our engine, e.g. \'{"det_max_side": 2048}\'')
    parser.add_argument("--factory", default=None, help="module:function building our engine instead of get_model() (development)")
    parser.add_argument("--per-image", action="store_true", help="print per-image F1 and seconds")
    parser.add_argument("--dump", type=Path, default=None, help="write raw results (texts, polygons) as JSON here")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        worker(args.worker, args.data, json.loads(args.options), args.factory)
        return

    names = image_names(args.data, args.limit, args.images)
    if not names:
        raise SystemExit(f"no img/*.jpg with a matching box/*.csv under {args.data}")
    print(f"{len(names)} images from {args.data}; CPU threads available: {os.cpu_count()}; options: {args.options}")
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    processes = [EngineProcess(engine, args) for engine in engines]  # loaded one after the other
    for name in names:  # interleaved: load drift on a shared machine hits every engine alike
        for process in processes:
            process.read_image(name)
    rows = []
    raw = {}
    for engine, process in zip(engines, processes):
        report = process.finish()
        metrics = score(report, args.data, names)
        rows.append((f"{report['engine']} [{report['device']}]", metrics, report))
        raw[engine] = report
    print()
    print_table(rows)
    for label, metrics, _ in rows:
        print(f"{label}: model load {metrics['load_seconds']:.2f} s, RSS after load {metrics['rss_after_load_mib']:.0f} MiB")
    # Each engine against the last one (rapidocr in the default order).
    for row in rows[:-1] if len(rows) >= 2 else []:
        ours, theirs = row[1], rows[-1][1]
        print(
            f"latency ratio {row[0].split()[0]}/{rows[-1][0].split()[0]}: median {ratio(ours['median_seconds'], theirs['median_seconds']):.2f}, "
            f"mean {ratio(ours['mean_seconds'], theirs['mean_seconds']):.2f}  (engine call only, JPEG decode excluded)"
        )
    if args.per_image:
        print()
        print("image   " + "  ".join(f"{label.split()[0]:>16}" for label, _, _ in rows))
        for name in names:
            cells = [f"F1 {m['per_image'][name]['f1']:.3f} {m['per_image'][name]['seconds']:5.2f}s" for _, m, _ in rows]
            print(f"{name:<7} " + "  ".join(f"{cell:>16}" for cell in cells))
    if args.dump:
        args.dump.write_text(json.dumps(raw))


if __name__ == "__main__":
    main()
