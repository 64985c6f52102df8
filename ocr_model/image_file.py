"""Decode an image file (path or bytes) to what the engine takes, with bounded size (Pillow only).

Used by the command line and the Ray Data pipeline, which read files nobody has checked. The image size is
read from the header and refused above `MAX_PIXELS` before any pixel is decoded (so a small PNG that declares
20000x20000 costs nothing), and so are progressive JPEGs with more scans than any encoder writes
(ocr_model/jpeg_scans.py: decoding costs scans x pixels); truncated files are errors, never half-grey images; the EXIF orientation is
applied and alpha is composited on white. The web app has its own, stricter decoder (`demo/decode.py`).
"""

from __future__ import annotations

import io
import os
import struct

import numpy as np
from PIL import Image, ImageFile, ImageOps

from .jpeg_scans import MAX_JPEG_SCANS, is_jpeg, jpeg_scan_count

try:  # HEIC/HEIF photos when the optional pillow-heif plugin is installed (it is in requirements.txt).
    import pillow_heif
except ImportError:  # pragma: no cover - depends on the environment
    pass
else:
    pillow_heif.register_heif_opener()

# 40 MP: above the 35 MP document scans people really have, below Pillow's 89 MP decompression-bomb warning
# (the same figure as the web app's upload limit).
MAX_PIXELS = 40_000_000

# Raster formats only: Pillow's risky plugins (EPS runs Ghostscript, ...) never see these files.
# ("JPEG" also opens MPO, the multi-picture JPEG of phone cameras; HEIF only with pillow-heif.)
Image.init()
IMAGE_FORMATS: tuple[str, ...] = tuple(
    name for name in ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF", "AVIF", "PPM", "HEIF") if name in Image.OPEN
)

# File extensions a folder scan picks up as images (lower case, with the dot).
IMAGE_EXTENSIONS: tuple[str, ...] = (
    ".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".heic", ".heif", ".avif", ".ppm", ".pgm",
)


class UnreadableImage(ValueError):
    """The file cannot be used as an image; the message says why."""


def read_image(source: str | os.PathLike[str] | bytes, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode the first frame of an image file to an upright HxWx3 uint8 RGB array.

    Raises UnreadableImage for anything that is not a complete image of at most `max_pixels` pixels, and
    FileNotFoundError / PermissionError for a path that cannot be opened.
    """
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES is True in this process; truncated files must fail")
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        opener: str | io.BytesIO = io.BytesIO(data)
    else:
        opener = os.fspath(source)
        with open(opener, "rb") as handle:
            data = handle.read(2)
            if is_jpeg(data):
                data += handle.read()
    if is_jpeg(data) and jpeg_scan_count(data, stop_after=MAX_JPEG_SCANS) > MAX_JPEG_SCANS:
        raise UnreadableImage(f"a progressive JPEG with more than {MAX_JPEG_SCANS} scans (decoding it would take minutes)")
    try:
        with Image.open(opener, formats=IMAGE_FORMATS) as image:
            if image.width * image.height > max_pixels:
                raise UnreadableImage(
                    f"too large: {image.width}x{image.height} pixels (the limit is {max_pixels / 1e6:g} MP)"
                )
            image.load()  # full decode of the first frame; raises on truncated data
            upright = ImageOps.exif_transpose(image)
            if "A" in upright.mode or "a" in upright.mode or "transparency" in upright.info:
                rgba = upright.convert("RGBA")
                background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                background.alpha_composite(rgba)
                rgb = background.convert("RGB")
            else:
                rgb = upright.convert("RGB")
            return np.array(rgb)
    except UnreadableImage:
        raise
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except Image.DecompressionBombError as error:
        raise UnreadableImage(f"too large: {error}") from error
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as error:
        raise UnreadableImage(f"not a readable image ({type(error).__name__}: {error})") from error

