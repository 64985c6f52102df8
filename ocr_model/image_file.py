"""Image files for the command line and the Ray Data pipeline, which read files nobody has checked.

Decoding is `ocr_model/image_decode.py`'s, the same as the web app's uploads (header-checked 40 MP cap,
whitelisted raster formats, progressive-JPEG scan bound, truncated files refused, EXIF orientation,
alpha on white, 16-bit stretch), except that tiny images are read (the engine returns an empty result)
rather than refused. This module adds what a folder scan needs: the file extensions it picks up.
"""

from __future__ import annotations

import os

import numpy as np

from .image_decode import DEFAULT_MAX_PIXELS, ImageRejected, decode_image

MAX_PIXELS = DEFAULT_MAX_PIXELS

# File extensions a folder scan picks up as images (lower case, with the dot).
IMAGE_EXTENSIONS: tuple[str, ...] = (
    ".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".heic", ".heif", ".avif", ".ppm", ".pgm",
)

# The decoder's refusal; its message says why (shown in the run's summary).
UnreadableImage = ImageRejected


def read_image(source: str | os.PathLike[str] | bytes, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode the first frame of an image file to an upright HxWx3 uint8 RGB array.

    Raises UnreadableImage for anything that is not a complete image of at most `max_pixels` pixels, and
    FileNotFoundError / PermissionError for a path that cannot be opened.
    """
    return decode_image(source, max_pixels=max_pixels, min_side=1).rgb
