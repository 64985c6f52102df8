"""Synthetic images for the tests and the benchmarks (one module, so both draw and encode them alike):
text pages whose words are known, small PNGs, uniquely tagged JPEGs and a progressive-JPEG scan bomb."""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Words the OCR model reads reliably in DejaVu Sans; lines are drawn from these so results can be checked.
VOCABULARY = (
    "ALPHA BRAVO CHARLIE DELTA ECHO FOXTROT GOLF HOTEL INDIA JULIET KILO LIMA MIKE NOVEMBER OSCAR PAPA "
    "QUEBEC ROMEO SIERRA TANGO UNIFORM VICTOR WHISKEY XRAY YANKEE ZULU invoice total amount receipt cash "
    "change table coffee bread butter cheese market street order number"
).split()


def text_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"):
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


@dataclass(frozen=True)
class TextImage:
    """A synthetic page: its encoded bytes and the lines of text drawn on it."""

    name: str
    data: bytes
    lines: tuple[str, ...]
    size: tuple[int, int]  # (width, height)


def make_text_page(
    name: str,
    width: int,
    height: int,
    line_count: int,
    font_px: int,
    seed: int,
    words_per_line: int = 5,
    first_line: str | None = None,
    jpeg_quality: int = 85,
) -> TextImage:
    """Black text lines on light paper, spread over the page in `line_count` rows (2 columns when wide)."""
    rng = np.random.default_rng(seed)
    page = Image.new("L", (width, height), 250)
    draw = ImageDraw.Draw(page)
    font = text_font(font_px)
    columns = 2 if width >= 3 * height // 2 and width > 3000 else 1
    rows = max(1, -(-line_count // columns))
    pitch = (height - 2 * font_px) / rows
    lines: list[str] = []
    for index in range(line_count):
        if index == 0 and first_line is not None:
            line = first_line
        else:
            line = " ".join(rng.choice(VOCABULARY, size=words_per_line)) + f" {int(rng.integers(10, 9999))}"
        column, row = divmod(index, rows)
        x = font_px + column * (width // columns)
        y = font_px + row * pitch
        draw.text((x, y), line, font=font, fill=20)
        lines.append(line)
    buffer = io.BytesIO()
    page.convert("RGB").save(buffer, "JPEG", quality=jpeg_quality)
    return TextImage(name=name, data=buffer.getvalue(), lines=tuple(lines), size=(width, height))


def tiny_text_page(name: str, width: int, height: int, font_px: int, seed: int) -> TextImage:
    """A page packed edge to edge with small text: the most text regions per pixel a request can bring."""
    line_count = max(1, int((height - 2 * font_px) / (font_px * 1.4)))
    words = max(3, int(width / (font_px * 3.2)))
    return make_text_page(name, width, height, line_count, font_px, seed, words_per_line=words)


def unique_jpeg(data: bytes, tag: str) -> bytes:
    """The same JPEG with a COM segment holding `tag`, so every upload has its own content hash.

    Gradio stores uploads under their hash: re-sending identical bytes would hide temp-dir growth.
    """
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    comment = tag.encode("ascii")
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    return data[:2] + segment + data[2:]


def jpeg_scan_bomb(size: int = 6300, repeats: int = 16000) -> bytes:
    """A white progressive JPEG whose smallest scan (~60 bytes) is repeated `repeats` times before EOI.

    libjpeg decodes every scan over the whole image: 2,000 repeats of a 6300x6300 page took 8 s to
    decode here, 16,000 about a minute, in a file of ~1 MB.
    """
    buffer = io.BytesIO()
    Image.new("L", (size, size), 255).save(buffer, "JPEG", progressive=True, quality=90)
    data = buffer.getvalue()
    next_marker = re.compile(rb"\xff(?=[^\x00\xd0-\xd7\xff])")
    scans, position = [], 2
    while position < len(data) and data[position + 1] != 0xD9:
        end = position + 2 + int.from_bytes(data[position + 2 : position + 4], "big")
        if data[position + 1] == 0xDA:
            end = next_marker.search(data, end).start()
            scans.append((position, end))
        position = end
    start, end = min(scans, key=lambda span: span[1] - span[0])
    last_end = scans[-1][1]
    return data[:last_end] + data[start:end] * repeats + data[last_end:]


def png_bytes(size: tuple[int, int] = (64, 32)) -> bytes:
    """A small white greyscale PNG."""
    buffer = io.BytesIO()
    Image.new("L", size, 255).save(buffer, "PNG")
    return buffer.getvalue()
