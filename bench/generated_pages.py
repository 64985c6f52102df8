"""Generated document pages with known lines, written as a SROIE-layout folder for bench_sroie.py.

    python bench/generated_pages.py --out /tmp/generated-pages [--count 24] [--seed 0]
    python bench/bench_sroie.py --data /tmp/generated-pages --engines ours,ours:tuned.safetensors

Why: a recognizer fine-tuned on receipts must not forget how to read other documents. These pages are
ordinary prose, lists and tables in mixed case, set in every system font that has the glyphs (sans, serif,
monospace, condensed), at several sizes, with light scan noise; nothing in them comes from a receipt data set.
Each page's lines are written as `box/NAME.csv` rows (`x1,y1,...,x4,y4,TEXT`, the quad of the drawn text),
so bench_sroie.py scores word F1 and line detection on them like on sroie-dev.
"""

from __future__ import annotations

import argparse
import glob
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

# Ordinary English and business words in mixed case: what a general document holds.
WORDS = (
    "the of and to in is for that with on as are this be by from at or have an it not which all were "
    "when we there can more if no out so said what up its about into than them only other new some "
    "could time these two may then first any like now over such our many most where after before also "
    "Report Summary Meeting Project Schedule Budget Quarter Annual Revenue Customer Service Delivery "
    "Invoice Payment Account Balance Contract Agreement Section Chapter Figure Table Notes Reference "
    "January February March April June July August September October November December Monday Friday "
    "London Paris Berlin Madrid Toronto Sydney Chicago Boston Seattle Denver Dublin Vienna Prague "
    "development management information production available following important approximately "
    "between during without within including however therefore although because through"
).split()
PUNCTUATION_TOKENS = ("(see below)", "e.g.", "i.e.", "No.", "Ltd.", "Inc.", "&", "-", "/", "%", "#")


def page_fonts() -> list[Path]:
    """System TrueType fonts with Latin glyphs (DejaVu, Liberation families on Debian)."""
    patterns = ("/usr/share/fonts/truetype/dejavu/*.ttf", "/usr/share/fonts/truetype/liberation*/*.ttf")
    fonts = sorted(Path(path) for pattern in patterns for path in glob.glob(pattern))
    return [font for font in fonts if "Math" not in font.name and "ExtraLight" not in font.name]


def random_line(rng: np.random.Generator, max_words: int) -> str:
    kind = rng.integers(0, 5)
    if kind == 0:  # a table row: label, quantity, amount
        label = " ".join(rng.choice(WORDS, size=int(rng.integers(1, 4))))
        return f"{label.capitalize()} {int(rng.integers(1, 250))} {rng.integers(1, 99999) / 100:,.2f}"
    if kind == 1:  # a date or reference line
        return f"{rng.choice(WORDS[-60:]).capitalize()} {int(rng.integers(1, 29))}/{int(rng.integers(1, 13)):02d}/{int(rng.integers(1990, 2030))} Ref. {int(rng.integers(1000, 99999))}-{chr(65 + int(rng.integers(0, 26)))}"
    words = list(rng.choice(WORDS, size=int(rng.integers(3, max_words + 1))))
    if rng.random() < 0.3:
        words.insert(int(rng.integers(0, len(words))), str(rng.choice(PUNCTUATION_TOKENS)))
    words[0] = words[0].capitalize()
    return " ".join(words) + str(rng.choice([".", ",", ":", ";", ""]))


def make_page(rng: np.random.Generator, font_path: Path) -> tuple[Image.Image, list[tuple[list[int], str]]]:
    width = int(rng.integers(900, 1700))
    font_px = int(rng.integers(13, 40))
    font = ImageFont.truetype(str(font_path), font_px)
    pitch = int(font_px * rng.uniform(1.5, 2.2))
    rows = int(rng.integers(8, 22))
    height = 2 * font_px + rows * pitch
    page = Image.new("L", (width, height), int(rng.integers(225, 252)))
    draw = ImageDraw.Draw(page)
    ink = int(rng.integers(10, 120))
    margin = int(rng.integers(font_px, 3 * font_px))
    lines: list[tuple[list[int], str]] = []
    for row in range(rows):
        y = font_px + row * pitch
        text = random_line(rng, max_words=9)
        while text and draw.textlength(text, font=font) > width - 2 * margin:
            text = text.rsplit(" ", 1)[0] if " " in text else ""
        if not text.strip():
            continue
        x = margin + (int(rng.integers(0, 3 * font_px)) if rng.random() < 0.2 else 0)
        left, top, right, bottom = draw.textbbox((x, y), text, font=font)
        draw.text((x, y), text, font=font, fill=ink)
        lines.append(([left, top, right, top, right, bottom, left, bottom], text))
    noisy = np.asarray(page, dtype=np.float32) + rng.normal(0.0, rng.uniform(2.0, 8.0), (height, width))
    scan = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    if rng.random() < 0.5:
        scan = scan.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.9)))
    return scan.convert("RGB"), lines


def write_pages(out: Path, count: int, seed: int) -> list[str]:
    """Writes img/NAME.jpg and box/NAME.csv for `count` pages; returns the names."""
    fonts = page_fonts()
    if not fonts:
        raise SystemExit("no DejaVu or Liberation TrueType fonts found under /usr/share/fonts/truetype")
    (out / "img").mkdir(parents=True, exist_ok=True)
    (out / "box").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    names = []
    for index in range(count):
        name = f"page{index:03d}"
        image, lines = make_page(rng, fonts[index % len(fonts)])
        image.save(out / "img" / f"{name}.jpg", "JPEG", quality=int(rng.integers(70, 95)))
        rows = [",".join(str(value) for value in quad) + "," + text for quad, text in lines]
        (out / "box" / f"{name}.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        names.append(name)
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write img/ and box/ into")
    parser.add_argument("--count", type=int, default=24, help="pages (default 24)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    names = write_pages(args.out, args.count, args.seed)
    print(f"wrote {len(names)} pages to {args.out} ({len(page_fonts())} fonts)")


if __name__ == "__main__":
    main()
