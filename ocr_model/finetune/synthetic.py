"""Synthetic text lines rendered with the system's fonts, mixed into training against forgetting.

A fine-tune on a few receipts pulls the recognizer towards their fonts and words. Lines of the same
vocabulary in other fonts, in new word orders and with fresh numbers keep it reading text in general; the
sample is shaped like a real one (context patch + the line's quad), so it goes through the same augmentation.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .line_data import PATCH_LINE_HEIGHT, PATCH_MARGIN, LineSample, inference_crop

FONT_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts", str(Path.home() / ".fonts"))
FONT_SUFFIXES = (".ttf", ".otf")
# Faces that do not draw ordinary text (symbols, emoji) are left out by name.
_NOT_TEXT = ("symbol", "emoji", "dingbat", "wingding", "math")


def system_fonts() -> list[Path]:
    """Outline fonts installed on this machine (fc-list when present, else the usual folders)."""
    found: set[Path] = set()
    if shutil.which("fc-list"):
        try:
            listing = subprocess.run(
                ["fc-list", "--format", "%{file}\n"], capture_output=True, text=True, timeout=30, check=False
            ).stdout
        except (OSError, subprocess.SubprocessError):
            listing = ""
        found.update(Path(line.strip()) for line in listing.splitlines() if line.strip())
    if not found:
        for folder in FONT_FOLDERS:
            if Path(folder).is_dir():
                found.update(Path(folder).rglob("*"))
    fonts = [
        path
        for path in found
        if path.suffix.lower() in FONT_SUFFIXES and path.is_file() and not any(word in path.name.lower() for word in _NOT_TEXT)
    ]
    return sorted(fonts)


def vocabulary(texts: Sequence[str]) -> list[str]:
    """The words of the training lines (sorted, so a seed gives the same lines)."""
    return sorted({word for text in texts for word in text.split()})


def _number(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.4:
        return f"{rng.randint(0, 999)}.{rng.randint(0, 99):02d}"
    if kind < 0.6:
        return f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2000, 2030)}"
    if kind < 0.8:
        return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
    return str(rng.randint(0, 99999))


def random_text(words: Sequence[str], rng: random.Random, alphabet: set[str] | None = None) -> str:
    """1 to 6 words of the vocabulary, sometimes with a fresh number (dates, prices, times), as written or in
    lower or title case (rendered text knows its case: it keeps the recognizer's lower case alive when the
    real labels are all capitals)."""
    chosen = []
    for _ in range(rng.randint(1, 6)):
        chosen.append(_number(rng) if not words or rng.random() < 0.25 else rng.choice(words))
    text = " ".join(chosen)
    case = rng.random()
    text = text.lower() if case < 0.25 else text.title() if case < 0.5 else text
    if alphabet is not None:
        text = "".join(char for char in text if char in alphabet or char == " ")
        text = " ".join(text.split())
    return text or "0"


def render_line(
    text: str, font_path: Path, rng: random.Random, height: int = 48
) -> LineSample:
    """`text` drawn dark on light in `font_path`, as a sample with a context patch like a cut line."""
    size = rng.randint(28, 44)
    font = ImageFont.truetype(str(font_path), size)
    left, top, right, bottom = font.getbbox(text)
    ascent, descent = font.getmetrics()
    line_height = ascent + descent
    margin = int(round(PATCH_MARGIN * line_height))
    width = max(1, right - left)
    paper = tuple(rng.randint(200, 255) for _ in range(3))
    ink = tuple(rng.randint(0, 80) for _ in range(3))
    canvas = Image.new("RGB", (width + 2 * margin, line_height + 2 * margin), paper)
    ImageDraw.Draw(canvas).text((margin - left, margin), text, font=font, fill=ink)
    patch = np.asarray(canvas)
    inner = np.array(
        [[margin, margin], [margin + width, margin], [margin + width, margin + line_height], [margin, margin + line_height]],
        dtype=np.float32,
    )
    scale = min(1.0, PATCH_LINE_HEIGHT / line_height)
    if scale < 1.0:
        target = (max(1, round(patch.shape[1] * scale)), max(1, round(patch.shape[0] * scale)))
        inner = inner * np.array([target[0] / patch.shape[1], target[1] / patch.shape[0]], dtype=np.float32)
        patch = np.asarray(canvas.resize(target, Image.Resampling.BOX))
    crop = np.asarray(canvas.crop((margin, margin, margin + width, margin + line_height)))
    return LineSample(
        text=text,
        document=f"synthetic:{font_path.name}",
        where=f"synthetic ({font_path.name})",
        crop=inference_crop(crop, height),
        patch=np.ascontiguousarray(patch),
        inner=inner.astype(np.float32),
    )


def synthetic_lines(
    texts: Sequence[str],
    count: int,
    seed: int,
    alphabet: set[str] | None = None,
    fonts: Sequence[Path] | None = None,
    height: int = 48,
) -> list[LineSample]:
    """`count` rendered lines from the vocabulary of `texts`; [] when the machine has no usable font."""
    fonts = list(fonts) if fonts is not None else system_fonts()
    if count <= 0 or not fonts:
        return []
    rng = random.Random(seed)
    words = vocabulary(texts)
    samples = []
    for _ in range(count):
        font = rng.choice(fonts)
        samples.append(render_line(random_text(words, rng, alphabet), font, rng, height))
    return samples


def write_rendered_documents(
    folder: str | Path, pages: Sequence[Sequence[str]], font_path: Path | None = None, font_size: int = 22
) -> list[Path]:
    """A labelled folder for trying the fine-tuner (and for tests): one PNG page per entry of `pages`,
    its lines drawn one under the other, with the same-named CSV of their boxes. Returns the image paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if font_path is None:
        fonts = system_fonts()
        if not fonts:
            raise RuntimeError("no system font to render with (install fonts-dejavu)")
        font_path = next((font for font in fonts if font.name == "DejaVuSans.ttf"), fonts[0])
    font = ImageFont.truetype(str(font_path), font_size)
    ascent, descent = font.getmetrics()
    line_height = ascent + descent
    written = []
    for number, lines in enumerate(pages):
        boxes = []
        width = 40 + max((font.getbbox(text)[2] for text in lines), default=100)
        page = Image.new("RGB", (width + 40, 30 + len(lines) * (line_height + 14)), "white")
        draw = ImageDraw.Draw(page)
        for row, text in enumerate(lines):
            x, y = 20, 15 + row * (line_height + 14)
            draw.text((x, y), text, font=font, fill=(20, 20, 20))
            left, _, right, _ = font.getbbox(text)
            x1, x2, y1, y2 = x + left - 2, x + right + 2, y - 1, y + line_height + 1
            boxes.append(f"{x1},{y1},{x2},{y1},{x2},{y2},{x1},{y2},{text}")
        image_path = folder / f"page{number:03d}.png"
        page.save(image_path)
        (folder / f"page{number:03d}.csv").write_text("\n".join(boxes) + "\n", encoding="utf-8")
        written.append(image_path)
    return written
