"""Word F1 on SROIE-style receipts turned by 0/90/180/270 degrees, page rotation off vs auto.

    python bench/bench_rotation.py --data ../shared/eval/sroie-dev [--limit N] [--angles 0,90,180,270]

Each image is turned clockwise with numpy (exact, no resampling) and read by this engine in
this process, once with `page_rotation="off"` (the engine before page rotation: only the
per-line 180° check) and once with `page_rotation="auto"`. Word precision / recall / F1 are
bench_sroie's (multisets of upper-cased whitespace tokens per image, counts summed over
images), so the upright column matches bench_sroie's word F1 for this engine. Also reports
how often "auto" chose the right rotation and the median seconds per image.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_sroie import decode_rgb, image_names, load_ground_truth, ratio, tokens  # noqa: E402


def word_scores(pairs: list[tuple[list[str], list[str]]]) -> dict[str, float]:
    """Summed word P/R/F1 over (truth texts, predicted texts) pairs, as bench_sroie scores them."""
    hits = n_pred = n_true = 0
    for truth, predicted in pairs:
        truth_tokens, pred_tokens = tokens(truth), tokens(predicted)
        hits += sum((truth_tokens & pred_tokens).values())
        n_pred += sum(pred_tokens.values())
        n_true += sum(truth_tokens.values())
    precision, recall = ratio(hits, n_pred), ratio(hits, n_true)
    return {"precision": precision, "recall": recall, "f1": ratio(2 * precision * recall, precision + recall)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/eval/sroie-dev"))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--angles", default="0,90,180,270")
    parser.add_argument("--modes", default="off,auto", help="page_rotation values to compare")
    args = parser.parse_args()

    from ocr_model import get_model
    from ocr_model.pipeline.page_rotation import rotate_image

    model = get_model()
    names = image_names(args.data, args.limit)
    angles = [int(angle) for angle in args.angles.split(",")]
    modes = args.modes.split(",")
    truth = {name: [text for _, text in load_ground_truth(args.data / "box" / f"{name}.csv")] for name in names}
    results: dict[tuple[str, int], list[tuple[list[str], list[str]]]] = {}
    seconds: dict[tuple[str, int], list[float]] = {}
    correct: dict[int, int] = {angle: 0 for angle in angles}
    model.predict(decode_rgb(args.data / "img" / f"{names[0]}.jpg"))  # warm-up, untimed
    for name in names:
        image = decode_rgb(args.data / "img" / f"{name}.jpg")
        for angle in angles:
            turned = rotate_image(image, angle)
            for mode in modes:  # interleaved, so load drift affects both modes alike
                started = time.perf_counter()
                prediction = model.predict(turned, page_rotation=mode)
                seconds.setdefault((mode, angle), []).append(time.perf_counter() - started)
                results.setdefault((mode, angle), []).append((truth[name], list(prediction.texts)))
                if mode == "auto" and (prediction.rotation + angle) % 360 == 0:
                    correct[angle] += 1
        print(f"{name} done", file=sys.stderr, flush=True)

    print(f"{len(names)} images from {args.data}, engine on {model.device}")
    print(f"{'page_rotation':<14} " + " ".join(f"{f'F1 @{angle}':>9}" for angle in angles) + "  " + " ".join(
        f"{f'med s @{angle}':>10}" for angle in angles
    ))
    for mode in modes:
        f1s = [word_scores(results[(mode, angle)])["f1"] for angle in angles]
        medians = [statistics.median(seconds[(mode, angle)]) for angle in angles]
        print(f"{mode:<14} " + " ".join(f"{f1:>9.4f}" for f1 in f1s) + "  " + " ".join(f"{m:>10.2f}" for m in medians))
    if "auto" in modes:
        print("auto chose the right rotation: " + ", ".join(f"{angle}°: {correct[angle]}/{len(names)}" for angle in angles))


if __name__ == "__main__":
    main()
