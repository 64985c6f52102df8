"""Worst case per request, measured through the real server: how long can one upload keep the worker busy?

The bounds are built in (the decoder's pixel cap, the detection input cap, the cap on text regions); this
script measures what they add up to for the heaviest inputs a user can send:

- ``scan35``:   a 7000x5000 (35 MP) scan with 120 lines of text in two columns;
- ``cap40``:    a 7300x5470 page, just under the 40 MP upload cap;
- ``tiny_grid``: a 2400x2400 image filled with a grid of small separate words (thousands of candidate
  regions; the region cap must cut them);
- ``noise``:    3000x3000 of random noise (detection sees texture everywhere).

Each is sent `--repeats` times through `gradio_client` (`/ocr`) on a fresh `python app.py`; the script prints
seconds per request (client wall time) and the server's own stage timings, lines found, and the server RSS.

    .venv/bin/python bench/worst_case.py
    .venv/bin/python bench/worst_case.py --cases scan35,tiny_grid --repeats 3
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))

from app_server import start_app, stop_servers_on_sigterm  # noqa: E402
from sample_images import make_text_page, text_font, unique_jpeg  # noqa: E402

MB = 1024 * 1024


def word_grid(width: int, height: int, font_px: int, seed: int) -> bytes:
    """Short separate tokens on a tight grid: each one a text region of its own."""
    rng = np.random.default_rng(seed)
    page = Image.new("L", (width, height), 250)
    draw = ImageDraw.Draw(page)
    font = text_font(font_px)
    step_x, step_y = font_px * 4, int(font_px * 2.2)
    alphabet = np.array(list("ABCDEFGHKLMNPRSTUVWXYZ0123456789"))
    for y in range(font_px // 2, height - font_px, step_y):
        for x in range(font_px // 2, width - 3 * font_px, step_x):
            draw.text((x, y), "".join(rng.choice(alphabet, size=2)), font=font, fill=20)
    buffer = io.BytesIO()
    page.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def noise_image(width: int, height: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (height, width), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=75)
    return buffer.getvalue()


def build_cases(seed: int) -> dict[str, bytes]:
    return {
        # 60 lines at a 50 px font: an ~80 px pitch, single-spaced like a real page (120 lines overlapped).
        "scan35": make_text_page("scan35.jpg", 7000, 5000, 60, 50, seed, words_per_line=6).data,
        "cap40": make_text_page("cap40.jpg", 7300, 5470, 60, 50, seed + 1, words_per_line=6).data,
        "tiny_grid": word_grid(2400, 2400, 14, seed + 2),
        "noise": noise_image(3000, 3000, seed + 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default="scan35,cap40,tiny_grid,noise")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--app-args", default="", help="extra flags for app.py")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    stop_servers_on_sigterm()

    from gradio_client import Client, handle_file

    all_cases = build_cases(args.seed)
    chosen = [name.strip() for name in args.cases.split(",") if name.strip()]
    unknown = set(chosen) - set(all_cases)
    if unknown:
        parser.error(f"unknown cases {sorted(unknown)}; choose from {sorted(all_cases)}")
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="ocr-worst-") as work:
        work_dir = Path(work)
        with start_app(work_dir / "server", args.app_args.split()) as server:
            client = Client(server.url, verbose=False, download_files=False, analytics_enabled=False)
            for name in chosen:
                data = all_cases[name]
                with Image.open(io.BytesIO(data)) as probe:
                    width, height = probe.size
                runs = []
                for repeat in range(args.repeats):
                    path = work_dir / f"{name}-{repeat}.jpg"
                    path.write_bytes(unique_jpeg(data, f"worst case {name} {repeat}"))
                    started = time.perf_counter()
                    job = client.submit(handle_file(str(path)), api_name="/ocr")
                    try:
                        result = job.result(timeout=args.timeout)
                        error = None
                    except Exception as exc:  # noqa: BLE001 - reported, the next case still runs
                        result, error = {}, f"{type(exc).__name__}: {exc}"[:300]
                    seconds = time.perf_counter() - started
                    timings = result.get("timings", {}) if isinstance(result, dict) else {}
                    run = {
                        "seconds": round(seconds, 2),
                        "lines": result.get("lines_total") if isinstance(result, dict) else None,
                        "server_timings_s": {k: round(float(v), 2) for k, v in timings.items()},
                        "server_rss_mb": round(server.rss_bytes() / MB, 1),
                        "error": error,
                    }
                    runs.append(run)
                    print(f"{name:10s} {width}x{height} ({len(data) / MB:.1f} MB file) run {repeat + 1}: {json.dumps(run)}", flush=True)
                ok_seconds = [run["seconds"] for run in runs if run["error"] is None]
                report[name] = {
                    "size": [width, height],
                    "megapixels": round(width * height / 1e6, 1),
                    "file_mb": round(len(data) / MB, 2),
                    "median_s": round(statistics.median(ok_seconds), 2) if ok_seconds else None,
                    "max_s": max(ok_seconds) if ok_seconds else None,
                    "runs": runs,
                }
            client.close()
    print(json.dumps({name: {k: v for k, v in entry.items() if k != "runs"} for name, entry in report.items()}, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))
    return 0 if all(entry["median_s"] is not None for entry in report.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
