"""Command line: python -m ocr_model IMAGE... [--json OUT] [--no-orientation]

Prints the text of each image (one line per text line, in reading order) and, with
--json, writes {"images": [{"path": ..., <Predictions.to_dict()>}, ...]} to OUT.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError


def load_image(path: Path) -> np.ndarray:
    """Decode an image file to HxWx3 uint8 RGB, applying its EXIF orientation."""
    with Image.open(path) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ocr_model", description="Read the text in images (PP-OCRv6 small).")
    parser.add_argument("images", nargs="+", type=Path, help="image files (JPEG, PNG, ...)")
    parser.add_argument("--json", type=Path, default=None, help="write all results to this JSON file")
    parser.add_argument("--orientation", choices=["off", "auto", "all"], default=None, help="180° line check (default: auto)")
    args = parser.parse_args(argv)

    from . import get_model

    model = get_model()
    options = {"orientation": args.orientation} if args.orientation else {}
    results = []
    failures = 0
    for path in args.images:
        try:
            image = load_image(path)
        except (OSError, UnidentifiedImageError) as error:
            print(f"== {path}: cannot read image ({error})", file=sys.stderr)
            failures += 1
            continue
        predictions = model.predict(image, **options)
        print(f"== {path} ({len(predictions)} lines, {predictions.timings.get('total', 0.0):.2f} s)")
        for text in predictions.texts:
            print(text)
        results.append({"path": str(path), **predictions.to_dict()})
    if args.json is not None:
        args.json.write_text(json.dumps({"images": results}, ensure_ascii=False, indent=1), encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
