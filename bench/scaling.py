"""Cost as work grows: seconds and peak memory of one `predict` as a page grows in pixels and in lines.

    python bench/scaling.py                              # 1, 5, 10, 20, 40 MP; 20 ... 1000 lines
    python bench/scaling.py --megapixels 1 5 --lines 20 100 --repeats 3

Two series, each point in a fresh process (so its peak is its own):

- pixels: the same A4-shaped page (40 lines of text, drawn at a size proportional to the page) rendered at
  1, 5, 10, 20 and 40 MP;
- lines: a fixed 3000x2800 page (8.4 MP) holding 20 ... 1000 short lines (two words each) on a grid.

Per point: the median seconds of `--repeats` calls (after one warm-up call on a small image), the RSS after
the model loaded and warmed up, the peak RSS during the timed calls (VmHWM, reset after the warm-up) and its
rise above that base. Then the
fitted exponent: the least-squares slope of log(seconds) and log(rise) against log(megapixels) or log(lines);
1.0 is linear. The input is an RGB array (no file decode), so the pixel series measures the engine alone.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
WORDS = "invoice total amount receipt cash change table coffee bread butter market street order".split()
A4_ASPECT = 2 ** 0.5  # height / width
LINES_PAGE = (3000, 2800)  # width, height of the lines series' page
PIXEL_PAGE_LINES = 40


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.truetype(FONT, size)
    except OSError:
        return ImageFont.load_default(size=size)


def page_of_megapixels(megapixels: float, seed: int = 0):
    """An A4-shaped page of `megapixels`, 40 lines of 6 words; text scales with the page."""
    import numpy as np
    from PIL import Image, ImageDraw

    width = int(round(math.sqrt(megapixels * 1e6 / A4_ASPECT)))
    height = int(round(width * A4_ASPECT))
    page = Image.new("L", (width, height), 245)
    draw = ImageDraw.Draw(page)
    pitch = height / (PIXEL_PAGE_LINES + 4)
    font = _font(max(8, int(pitch * 0.55)))
    rng = np.random.default_rng(seed)
    for row in range(PIXEL_PAGE_LINES):
        text = " ".join(rng.choice(WORDS, size=5)) + f" {int(rng.integers(10, 9999))}"
        draw.text((width * 0.08, (row + 2) * pitch), text, font=font, fill=20)
    return np.asarray(page.convert("RGB"))


def page_of_lines(lines: int, seed: int = 0):
    """The fixed 3000x2800 page with `lines` two-word lines on a 13-column grid (at most 1040)."""
    import numpy as np
    from PIL import Image, ImageDraw

    width, height = LINES_PAGE
    columns, pitch = 13, 34
    rows = (height - 2 * pitch) // pitch
    if lines > columns * rows:
        raise ValueError(f"at most {columns * rows} lines fit on the page")
    page = Image.new("L", (width, height), 245)
    draw = ImageDraw.Draw(page)
    font = _font(26)
    rng = np.random.default_rng(seed)
    column_width = width // columns
    for index in range(lines):
        column, row = divmod(index, rows)
        text = f"{rng.choice(WORDS)} {int(rng.integers(10, 99))}"
        draw.text((column * column_width + 12, pitch + row * pitch), text, font=font, fill=20)
    return np.asarray(page.convert("RGB"))


def rss_mb() -> float:
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def reset_peak() -> bool:
    """Start a new high-water mark (Linux: "5" to /proc/self/clear_refs resets VmHWM), so the peak read after
    the timed calls is theirs, not the model load's or the warm-up's."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


def peak_mb() -> float:
    """VmHWM (peak RSS since the last reset_peak) in MB; ru_maxrss where /proc is not there."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(series: str, value: float, repeats: int) -> None:
    """One point: build the page, load and warm the model, time `repeats` calls; one JSON line."""
    image = page_of_megapixels(value) if series == "pixels" else page_of_lines(int(value))
    sys.path.insert(0, str(REPO_ROOT))
    from ocr_model import get_model

    model = get_model()
    model.predict(page_of_megapixels(0.5, seed=1))  # warm-up: first-call costs are not the page's
    base = rss_mb()
    peak_is_the_calls = reset_peak()
    seconds, found = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        predictions = model.predict(image)
        seconds.append(time.perf_counter() - started)
        found = len(predictions.texts)
    peak = peak_mb()
    print(json.dumps({"peak_is_the_calls": peak_is_the_calls, 
        "series": series, "value": value, "megapixels": image.shape[0] * image.shape[1] / 1e6,
        "lines_found": found, "seconds": statistics.median(seconds), "base_mb": base, "peak_mb": peak,
        "rise_mb": max(0.0, peak - base),
    }), flush=True)


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log(y) on log(x) (the exponent k in y ~ x^k)."""
    points = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if x > 0 and y > 0]
    if len(points) < 2:
        return float("nan")
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else float("nan")


def run_point(series: str, value: float, repeats: int) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--worker", series, str(value), "--repeats", str(repeats)],
        capture_output=True, text=True, check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{series}={value} failed:\n{completed.stderr[-2000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def print_series(title: str, key: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    print(f"{key:>10} {'MP':>6} {'lines found':>11} {'seconds':>8} {'base MB':>8} {'peak MB':>8} {'rise MB':>8}")
    for row in rows:
        print(f"{row['value']:>10g} {row['megapixels']:6.1f} {row['lines_found']:>11} {row['seconds']:8.2f} "
              f"{row['base_mb']:8.0f} {row['peak_mb']:8.0f} {row['rise_mb']:8.0f}")
    xs = [row["value"] for row in rows]
    print(f"fitted exponent ({key}): seconds {slope(xs, [row['seconds'] for row in rows]):.2f}, "
          f"peak rise {slope(xs, [row['rise_mb'] for row in rows]):.2f}  (1.0 = linear)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megapixels", type=float, nargs="*", default=[1, 5, 10, 20, 40])
    parser.add_argument("--lines", type=int, nargs="*", default=[20, 50, 100, 200, 500, 1000])
    parser.add_argument("--repeats", type=int, default=1, help="calls per point (median seconds)")
    parser.add_argument("--worker", nargs=2, metavar=("SERIES", "VALUE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], float(args.worker[1]), args.repeats)
        return
    series = (  # (series, its values, title, the value's name in the table)
        ("pixels", args.megapixels, f"pixels: A4 page, {PIXEL_PAGE_LINES} lines, text scaled with the page", "megapixels"),
        ("lines", args.lines, f"lines: {LINES_PAGE[0]}x{LINES_PAGE[1]} page, two-word lines", "lines"),
    )
    for name, values, title, key in series:
        if not values:
            continue
        rows = []
        for value in values:
            rows.append(run_point(name, value, args.repeats))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        print_series(title, key, rows)


if __name__ == "__main__":
    main()
