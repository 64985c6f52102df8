"""Pure drawing helpers: downscale for display, scale polygons, draw them. No Gradio, no torch.

Coordinates: x to the right, y down, in pixels with the pixel-edge convention (the image
spans [0, width] x [0, height]), the same convention Pillow's resize uses. Scaling a polygon
by (display_width / width, display_height / height) therefore lands it exactly on the
resized pixels; `DisplayTransform.to_original` is its exact inverse.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

BOX_COLOR = (0, 132, 255)  # vivid blue: distinct from black text and most paper colours
HIGHLIGHT_COLOR = (255, 96, 0)  # orange: the line selected in the table
LABEL_TEXT_COLOR = (255, 255, 255)


@dataclass(frozen=True)
class DisplayTransform:
    """Maps the original image's pixel coordinates to the display copy's, and back."""

    original_size: tuple[int, int]  # (height, width)
    display_size: tuple[int, int]  # (height, width)

    def __post_init__(self) -> None:
        if min(self.original_size) < 1 or min(self.display_size) < 1:
            raise ValueError(f"sizes must be positive, got {self.original_size} -> {self.display_size}")

    @property
    def scale_xy(self) -> np.ndarray:
        """(scale_x, scale_y): display pixels per original pixel along each axis."""
        (height, width), (display_height, display_width) = self.original_size, self.display_size
        return np.array([display_width / width, display_height / height], dtype=np.float64)

    @property
    def is_identity(self) -> bool:
        return self.original_size == self.display_size

    def to_display(self, polygon: np.ndarray) -> np.ndarray:
        return _as_points(polygon) * self.scale_xy

    def to_original(self, polygon: np.ndarray) -> np.ndarray:
        return _as_points(polygon) / self.scale_xy


def _as_points(polygon: np.ndarray) -> np.ndarray:
    points = np.asarray(polygon, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"a polygon must be a (K, 2) array, got shape {points.shape}")
    return points


ROTATIONS = (0, 90, 180, 270)


def turn_points(points: np.ndarray, rotation: int, size: tuple[int, int]) -> np.ndarray:
    """Points (K, 2) in an image of `size` (height, width) -> the same spots in that image turned
    clockwise by `rotation` (as the engine's `rotate_image` turns it). Pixel-edge coordinates, so the
    image's corners map onto the turned image's corners exactly; the inverse of the engine's
    `rotate_points_back`."""
    if rotation not in ROTATIONS:
        raise ValueError(f"rotation must be one of {ROTATIONS}, got {rotation!r}")
    height, width = size
    xy = _as_points(points)
    x, y = xy[:, 0], xy[:, 1]
    if rotation == 0:
        return xy.copy()
    if rotation == 90:  # the left edge becomes the top: (x, y) -> (height - y, x)
        return np.stack([height - y, x], axis=1)
    if rotation == 180:
        return np.stack([width - x, height - y], axis=1)
    return np.stack([y, width - x], axis=1)  # 270: the right edge becomes the top


def display_transform(original_size: tuple[int, int], max_display_size: int) -> DisplayTransform:
    """The transform to a copy whose longer side is at most `max_display_size` (never upscaled)."""
    height, width = original_size
    if height < 1 or width < 1:
        raise ValueError(f"image size must be positive, got {original_size}")
    if max_display_size < 1:
        raise ValueError(f"max_display_size must be positive, got {max_display_size}")
    scale = min(1.0, max_display_size / max(height, width))
    display = (max(1, round(height * scale)), max(1, round(width * scale)))
    return DisplayTransform(original_size=(height, width), display_size=display)


def downscale(rgb: np.ndarray, transform: DisplayTransform) -> np.ndarray:
    """A NEW uint8 array of `transform.display_size`; the input is never modified."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 image, got shape {rgb.shape} dtype {rgb.dtype}")
    if tuple(rgb.shape[:2]) != transform.original_size:
        raise ValueError(f"image is {rgb.shape[:2]}, transform expects {transform.original_size}")
    if transform.is_identity:
        return rgb.copy()
    display_height, display_width = transform.display_size
    resized = Image.fromarray(rgb).resize(
        (display_width, display_height), Image.Resampling.LANCZOS, reducing_gap=3.0
    )
    return np.asarray(resized, dtype=np.uint8).copy()


def fit_within(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """A downscaled copy with the longer side at most `max_side` (e.g. a thumbnail)."""
    return downscale(rgb, display_transform(rgb.shape[:2], max_side))


@lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans when installed (wide Unicode coverage), else Pillow's bundled font."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def draw_annotations(
    display_rgb: np.ndarray,
    display_polygons: Sequence[np.ndarray],
    labels: Sequence[str],
    texts: Sequence[str] | None = None,
    highlight: int | None = None,
) -> Image.Image:
    """Draw polygons (already in display coordinates) on a copy of `display_rgb`.

    Each polygon gets a small numbered tag (`labels`, e.g. the table's line numbers) with a white
    border, placed where it touches no other tag. With `texts`, the recognized text is written
    INSIDE its own box on a white band (so on a dense page it never covers the line above or its
    tag). Outlines have a white rim so they stay visible on dark and colourful photos. `highlight` is a
    position in `display_polygons` drawn in another colour with a stronger fill.
    """
    if len(labels) != len(display_polygons) or (texts is not None and len(texts) != len(display_polygons)):
        raise ValueError("display_polygons, labels and texts must have the same length")
    base = Image.fromarray(display_rgb).convert("RGBA")
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    longer_side = max(base.size)
    line_width = max(3, round(longer_side / 500))
    tag_font = _font(max(13, round(longer_side / 60)))

    order = [i for i in range(len(display_polygons)) if i != highlight]
    if highlight is not None and 0 <= highlight < len(display_polygons):
        order.append(highlight)  # drawn last, on top
    shapes = {i: [tuple(point) for point in np.asarray(display_polygons[i], dtype=np.float64)] for i in order}
    for position in order:
        points = shapes[position]
        selected = position == highlight
        color = HIGHLIGHT_COLOR if selected else BOX_COLOR
        width = line_width * (2 if selected else 1)
        draw.polygon(points, fill=color + ((90,) if selected else (28,)))
        if texts is not None and texts[position]:
            _draw_text_inside(draw, points, texts[position])
        draw.line(points + [points[0]], fill=HALO_COLOR, width=width + 4)  # rim: visible on any background
        draw.line(points + [points[0]], fill=color + (255,), width=width)
    # Tags are placed in line order, as the browser places them (TAG_SPOTS); the highlighted one is drawn last.
    placed: list[tuple[float, float, float, float]] = []
    rects = {}
    for position in sorted(order):
        rects[position] = _place_tag(draw, shapes[position], labels[position], tag_font, placed, base.size)
        placed.append(rects[position])
    for position in order:
        color = HIGHLIGHT_COLOR if position == highlight else BOX_COLOR
        _draw_tag(draw, rects[position], labels[position], tag_font, color)
    return Image.alpha_composite(base, overlay).convert("RGB")


HALO_COLOR = (255, 255, 255, 230)  # a white rim: blue on white where the photo is dark or coloured
TAG_GAP = 3  # px kept free between two tags, so "1" next to "20" never reads "120"
# The tag placement rule, one rule for both drawings: a line's number tag goes to the first of these spots
# that keeps TAG_GAP px from every tag already placed (lines taken in order), else to the first spot; each
# spot is moved inside the image. The browser draws the tags (demo/static/explorer.js, "number tag") with
# the same spots in the same order and the same gap; change both together.
TAG_SPOTS = (
    "left",  # outside, left of the box's top-left corner
    "inside",  # inside the top-left corner
    "above",  # above the top-left corner
    "below",  # below the box, at its left edge
)
TEXT_BAND_COLOR = (255, 255, 255, 225)
TEXT_COLOR = (0, 0, 0, 255)


def _text_size(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> tuple[int, int, int, int]:
    return draw.textbbox((0, 0), text, font=font)


def _place_tag(
    draw: ImageDraw.ImageDraw,
    points: list[tuple[float, float]],
    text: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    placed: list[tuple[float, float, float, float]],
    image_size: tuple[int, int],
) -> tuple[float, float, float, float]:
    """The tag's rectangle by the TAG_SPOTS rule: left of the box's top-left corner, else inside it, else
    above it, else below; the first spot that keeps TAG_GAP px from every tag already placed (else the first)."""
    left, top, right, bottom = _text_size(draw, text, font)
    width, height = right - left + 4, bottom - top + 4
    x_left = min(p[0] for p in points)
    y_top = min(p[1] for p in points)
    y_bottom = max(p[1] for p in points)
    image_width, image_height = image_size
    spots = {
        "left": (x_left - width - 1, y_top),
        "inside": (x_left, y_top),
        "above": (x_left, y_top - height - 1),
        "below": (x_left, y_bottom + 1),
    }
    rects = []
    for x, y in (spots[name] for name in TAG_SPOTS):
        x = float(np.clip(x, 0, max(0, image_width - width)))
        y = float(np.clip(y, 0, max(0, image_height - height)))
        rects.append((x, y, x + width, y + height))
    for rect in rects:
        if not any(_overlaps(rect, other, TAG_GAP) for other in placed):
            return rect
    return rects[0]


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float], gap: float) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def _draw_tag(
    draw: ImageDraw.ImageDraw,
    rect: tuple[float, float, float, float],
    text: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    color: tuple[int, int, int],
) -> None:
    """A filled, white-bordered number tag in `rect`."""
    left, top, _, _ = _text_size(draw, text, font)
    draw.rectangle(rect, fill=color + (235,), outline=(255, 255, 255, 255), width=1)
    draw.text((rect[0] + 2 - left, rect[1] + 2 - top), text, font=font, fill=LABEL_TEXT_COLOR + (255,))


def _draw_text_inside(draw: ImageDraw.ImageDraw, points: list[tuple[float, float]], text: str) -> None:
    """The recognized text on a white band filling the box, in the largest font (up to 48 px) that fits."""
    x_left, x_right = min(p[0] for p in points), max(p[0] for p in points)
    y_top, y_bottom = min(p[1] for p in points), max(p[1] for p in points)
    box_width, box_height = max(1.0, x_right - x_left), max(1.0, y_bottom - y_top)
    draw.polygon(points, fill=TEXT_BAND_COLOR)
    size = int(np.clip(box_height * 0.8, 8, 48))
    font = _font(size)
    left, top, right, bottom = _text_size(draw, text, font)
    while size > 8 and (right - left > box_width - 2 or bottom - top > box_height):
        size = max(8, int(size * min(0.9, (box_width - 2) / max(1, right - left))))
        font = _font(size)
        left, top, right, bottom = _text_size(draw, text, font)
    x = x_left + 1 - left
    y = y_top + (box_height - (bottom - top)) / 2 - top
    draw.text((x, y), text, font=font, fill=TEXT_COLOR)


def encode_jpeg(image: Image.Image | np.ndarray, quality: int) -> bytes:
    picture = Image.fromarray(image) if isinstance(image, np.ndarray) else image
    with io.BytesIO() as buffer:
        picture.convert("RGB").save(buffer, format="JPEG", quality=quality, optimize=True)
        return buffer.getvalue()


def decode_jpeg(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as picture:
        return np.asarray(picture.convert("RGB"), dtype=np.uint8).copy()
