"""The image decoder for untrusted files (Pillow only): the app's uploads and the command line's inputs.

The app calls :func:`decode_image`; the command line and the Ray pipeline call :func:`read_image`, the same
decoder except that tiny images are read (the engine returns an empty result) rather than refused, and
:data:`IMAGE_EXTENSIONS` is what a folder scan picks up.

Everything a user uploads goes through :func:`decode_image`, never through OpenCV (which happily decodes
decompression bombs that Pillow refuses). The steps, in order:

1. sniff the bytes: empty files, ZIP archives, PDFs and text files get a message that names what they are;
2. ``Image.open`` reads only the header, restricted to a whitelist of raster formats;
3. :func:`check_geometry` refuses images that are too small, too elongated or have too many pixels, from the
   header, before a single pixel is decoded (so a 400 KB 20000x20000 PNG costs microseconds, not 400 MB);
4. the first frame is decoded fully (a truncated file is an error, never a half-grey image);
5. any mode becomes 8-bit RGB: alpha is composited on white, 16-bit and float images are stretched over their
   actual value range, and the EXIF orientation is applied so the array is upright.

Every refusal is an :class:`ImageRejected` (a ``ValueError``) whose message can be shown to the user as is.
"""

from __future__ import annotations

import io
import logging
import os
import struct
from dataclasses import dataclass

import numpy as np
from PIL import ExifTags, Image, ImageFile, UnidentifiedImageError

from ..config import MAX_IMAGE_PIXELS
from .jpeg_scans import MAX_JPEG_SCANS, jpeg_scan_count

try:  # HEIC/HEIF (iPhone photos) when the optional pillow-heif plugin is installed.
    import pillow_heif
except ImportError:  # pragma: no cover - depends on the environment
    pillow_heif = None
else:
    pillow_heif.register_heif_opener()

# Geometry limits (the pixel cap is ocr_model/config.py's MAX_IMAGE_PIXELS). The defaults live here and
# only here; callers override them per call.
# Below 8 px on a side there is no readable text; such images are usually icons or corrupt headers.
DEFAULT_MIN_SIDE = 8
# Long receipts and scrolling screenshots reach about 30:1; 50:1 leaves room and refuses 1-pixel strips.
DEFAULT_MAX_ASPECT_RATIO = 50.0
# Progressive JPEG scans: decoding costs about (scans x pixels); see ocr_model/inputs/jpeg_scans.py.
DEFAULT_MAX_JPEG_SCANS = MAX_JPEG_SCANS

HEIF_SUPPORTED = pillow_heif is not None

_LOG = logging.getLogger(__name__)

# Raster formats we accept. A whitelist keeps Pillow's rarely used and risky plugins (EPS runs Ghostscript,
# PSD, FITS, ...) away from untrusted uploads.
_ALLOWED_FORMATS: tuple[str, ...] = (
    "JPEG",  # also opens MPO, the multi-picture JPEG many phone cameras write
    "PNG",
    "GIF",
    "WEBP",
    "AVIF",
    "BMP",
    "TIFF",
    "PPM",
    "JPEG2000",
) + (("HEIF",) if HEIF_SUPPORTED else ())

_FORMAT_LIST_FOR_USERS = "JPEG, PNG, WebP, AVIF, GIF, BMP, TIFF" + (", HEIC" if HEIF_SUPPORTED else "")

# What Pillow raises on broken or hostile files: OSError ("image file is truncated", "cannot identify"),
# SyntaxError (broken PNG chunks), ValueError/EOFError/struct.error/IndexError/KeyError from plugin parsers.
_DECODER_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
)

# EXIF orientation value -> the Pillow transpose that makes the image upright (EXIF 2.32, tag 0x0112).
_ORIENTATION_TO_TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# ISO-BMFF brands of HEIC/HEIF files (the 4 bytes after "ftyp" at offset 4).
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
_HIGH_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


class ImageRejected(ValueError):
    """The upload cannot be used; the message is short and meant for the user."""


@dataclass(frozen=True)
class DecodedImage:
    """An upload decoded to what the OCR model takes."""

    rgb: np.ndarray  # H x W x 3, uint8, RGB, upright (EXIF orientation applied), C-contiguous, writable
    note: str | None  # user-facing remark about what was done (first frame of an animation, ...), or None
    format: str  # the file format Pillow recognised, e.g. "JPEG", "PNG", "HEIF"


def check_geometry(
    width: int,
    height: int,
    *,
    max_pixels: int = MAX_IMAGE_PIXELS,
    min_side: int = DEFAULT_MIN_SIDE,
    max_aspect_ratio: float = DEFAULT_MAX_ASPECT_RATIO,
) -> None:
    """Refuse image sizes the app will not decode. Raises ImageRejected with a user-facing message.

    Called with the size from the file header, before any pixel is decoded.
    """
    if max_pixels < 1 or min_side < 1 or max_aspect_ratio < 1:
        raise ValueError(
            f"invalid limits: max_pixels={max_pixels}, min_side={min_side}, max_aspect_ratio={max_aspect_ratio}"
        )
    if width < min_side or height < min_side:
        raise ImageRejected(
            f"Image too small: {width}x{height} pixels. Both sides must be at least {min_side} pixels."
        )
    aspect_ratio = max(width, height) / min(width, height)
    if aspect_ratio > max_aspect_ratio:
        raise ImageRejected(
            f"Image too elongated: {width}x{height} pixels (aspect ratio {aspect_ratio:.0f}:1, "
            f"the limit is {max_aspect_ratio:g}:1). Crop it into shorter pieces."
        )
    if width * height > max_pixels:
        raise ImageRejected(
            f"Image too large: {width}x{height} pixels = {width * height / 1e6:.1f} megapixels "
            f"(the limit is {max_pixels / 1e6:g} MP). Scale it down and try again."
        )


def decode_image(
    source: str | os.PathLike[str] | bytes,
    *,
    max_pixels: int = MAX_IMAGE_PIXELS,
    min_side: int = DEFAULT_MIN_SIDE,
    max_aspect_ratio: float = DEFAULT_MAX_ASPECT_RATIO,
    max_scans: int = DEFAULT_MAX_JPEG_SCANS,
) -> DecodedImage:
    """Decode an uploaded file (path or bytes) to an upright 8-bit RGB array.

    Raises ImageRejected (a ValueError) with a short user-facing message for anything it cannot take.
    A missing path raises FileNotFoundError: that is a server problem, not the user's.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        file_size = len(data)
        opener: io.BytesIO | str = io.BytesIO(data)
        head = data[:512]
    elif isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        file_size = os.stat(path).st_size
        opener = path
        with open(path, "rb") as handle:
            head = handle.read(512)
    else:
        raise TypeError(f"source must be a path or bytes, got {type(source).__name__}")

    if file_size == 0:
        raise ImageRejected("The file is empty (0 bytes), not an image.")
    _reject_known_non_images(head)
    if head.startswith(b"\xff\xd8"):
        _check_jpeg_scans(opener, max_scans)
    _require_truncated_images_refused()

    try:
        with Image.open(opener, formats=_ALLOWED_FORMATS) as image:
            check_geometry(
                image.width,
                image.height,
                max_pixels=max_pixels,
                min_side=min_side,
                max_aspect_ratio=max_aspect_ratio,
            )
            file_format = image.format or "unknown"
            orientation = _exif_orientation(image)
            note = _join_notes(_frames_note(image), _EXIF_NOTES.get(orientation))
            image.load()  # full decode of the first frame; raises on truncated data
            upright_rgb = _to_upright_rgb(image, orientation)  # may be `image` itself (plain RGB, upright)
            try:
                rgb = _rgb_array(upright_rgb)
            finally:
                if upright_rgb is not image:
                    upright_rgb.close()
    except ImageRejected:
        raise
    except Image.DecompressionBombError as error:
        raise ImageRejected(
            f"Image too large: it declares more pixels than the limit of {max_pixels / 1e6:g} MP."
        ) from error
    except UnidentifiedImageError as error:
        raise ImageRejected(_unidentified_message(head)) from error
    except _DECODER_ERRORS as error:
        _LOG.info("upload refused as damaged: %r", error)  # the cause stays in the server log, not the UI
        raise ImageRejected(
            "The image file is damaged or truncated and cannot be decoded. Please upload the complete file."
        ) from error

    return DecodedImage(rgb=rgb, note=note, format=file_format)


# Rows copied out of Pillow per step (about 1 MB of its pixels each).
_BAND_BYTES = 1024 * 1024


def _rgb_array(image: Image.Image) -> np.ndarray:
    """The pixels of an RGB Pillow image as a new writable HxWx3 uint8 array, copied a band of rows at a time.

    Why: np.asarray(image) goes through image.tobytes(), which holds the encoded chunks and their join at
    once, and a writable copy followed. Measured on sroie-dev's 35 MP scan (105 MB of RGB): the process peak
    rose 332 MB while decoding that way, 244 MB band by band (Pillow's 4-byte pixels plus the array).
    """
    width, height = image.size
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    rows = max(1, _BAND_BYTES // (4 * width))
    for top in range(0, height, rows):
        with image.crop((0, top, width, min(height, top + rows))) as band:
            pixels[top : top + band.height] = np.asarray(band)
    return pixels


def _check_jpeg_scans(opener: io.BytesIO | str, max_scans: int) -> None:
    if isinstance(opener, io.BytesIO):
        data = opener.getvalue()
    else:
        with open(opener, "rb") as handle:
            data = handle.read()
    scans = jpeg_scan_count(data, stop_after=max_scans)
    if scans > max_scans:
        raise ImageRejected(
            f"This JPEG has more than {max_scans} progressive scans, far more than any camera or editor writes, "
            "and would take too long to decode. Re-save it as a normal JPEG or PNG and upload that."
        )


def _require_truncated_images_refused() -> None:
    # Pillow's global switch turns truncated files into partly grey images. Some libraries flip it on import;
    # a half-decoded image must never reach the model, so this is a hard error rather than a silent reset.
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError(
            "PIL.ImageFile.LOAD_TRUNCATED_IMAGES is True somewhere in this process; the decoder requires False "
            "so that truncated uploads are refused instead of being decoded as partly grey images."
        )


def _reject_known_non_images(head: bytes) -> None:
    """Name common non-images before Pillow tries them (clearer messages than 'cannot identify')."""
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        raise ImageRejected("This is a ZIP archive, not an image. Upload the image file itself.")
    if head.startswith(b"%PDF"):
        raise ImageRejected("PDF documents are not supported. Upload an image (a scan or screenshot) of the page.")
    if b"<svg" in head.lower():
        raise ImageRejected("SVG (vector) images are not supported. Export it as PNG or JPEG and upload that.")
    if not HEIF_SUPPORTED and len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        raise ImageRejected(
            f"HEIC/HEIF images are not supported on this server. Convert it to JPEG or PNG ({_FORMAT_LIST_FOR_USERS} work)."
        )


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character may be cut at the 512-byte boundary; retry without the last few bytes.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return len(text) > 0 and printable / len(text) > 0.95


def _unidentified_message(head: bytes) -> str:
    if _looks_like_text(head):
        return "This looks like a text file, not an image. Upload a photo, scan or screenshot."
    return f"This file is not an image in a supported format ({_FORMAT_LIST_FOR_USERS})."


# Pages counted in a multi-page TIFF before the note says "more than". Pillow walks the IFD chain to count
# pages (~0.2 ms a page here): a 4 MB TIFF of 20,000 tiny pages took 3.6 s just to count.
MAX_FRAMES_COUNTED = 1000


def _frame_count(image: Image.Image) -> tuple[int, bool]:
    """(frames, exact): exact is False when counting stopped at MAX_FRAMES_COUNTED. Leaves frame 0 current."""
    if not getattr(image, "is_animated", False):
        return 1, True
    if image.format != "TIFF":
        return int(getattr(image, "n_frames", 1)), True  # read from headers or by skipping frame data: cheap
    count = 1
    try:
        while count <= MAX_FRAMES_COUNTED:
            image.seek(count)
            count += 1
    except EOFError:
        pass
    finally:
        image.seek(0)
    return min(count, MAX_FRAMES_COUNTED), count <= MAX_FRAMES_COUNTED


def _frames_note(image: Image.Image) -> str | None:
    frame_count, exact = _frame_count(image)
    if frame_count <= 1 or image.format == "MPO":
        # MPO: phone cameras add a small preview or depth map as frame 2; the first frame is the photo itself.
        return None
    total = f"{frame_count}" if exact else f"more than {frame_count}"
    if image.format == "TIFF":
        return f"Multi-page TIFF: used the first of {total} pages."
    if image.format == "GIF":
        return f"Animated GIF: used the first of {total} frames."
    return f"Animated {image.format} image: used the first of {total} frames."


# What the user is told when the EXIF orientation tag turned the stored pixels upright (boxes and sizes then
# refer to the upright image, which can surprise someone comparing with the raw file).
_EXIF_NOTES: dict[int, str] = {
    2: "Mirrored left-right as the photo's EXIF orientation says.",
    3: "Turned 180° as the photo's EXIF orientation says.",
    4: "Mirrored top-bottom as the photo's EXIF orientation says.",
    5: "Turned and mirrored as the photo's EXIF orientation says.",
    6: "Turned 90° clockwise as the photo's EXIF orientation says.",
    7: "Turned and mirrored as the photo's EXIF orientation says.",
    8: "Turned 90° counter-clockwise as the photo's EXIF orientation says.",
}


def _join_notes(*notes: str | None) -> str | None:
    present = [note for note in notes if note]
    return " ".join(present) if present else None


def _exif_orientation(image: Image.Image) -> int:
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    except _DECODER_ERRORS:
        return 1  # unreadable EXIF: the pixels are still fine, keep them as stored
    return orientation if isinstance(orientation, int) and orientation in _ORIENTATION_TO_TRANSPOSE else 1


def _to_upright_rgb(image: Image.Image, orientation: int) -> Image.Image:
    """8-bit RGB, alpha composited on white, EXIF orientation applied.

    Returns `image` itself when it already is upright RGB (no copy); otherwise a new image.
    """
    rgb = _to_rgb(image)
    transpose = _ORIENTATION_TO_TRANSPOSE.get(orientation)
    if transpose is None:
        return rgb
    upright = rgb.transpose(transpose)
    if rgb is not image:
        rgb.close()
    return upright


def _to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB with alpha composited on white; `image` itself when it already is plain RGB."""
    mode = image.mode
    if mode in _HIGH_BIT_MODES:
        gray = _stretch_to_8bit(image)
        rgb = gray.convert("RGB")
        gray.close()
        return rgb
    has_alpha = "A" in mode or "a" in mode or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        white.alpha_composite(rgba)
        rgba.close()
        rgb = white.convert("RGB")
        white.close()
        return rgb
    if mode == "RGB":
        return image  # already what we need: no copy
    return image.convert("RGB")


def _stretch_to_8bit(image: Image.Image) -> Image.Image:
    """Map a 16-bit, 32-bit integer or float grey image to 8 bits over its actual value range.

    Pillow's own conversion clips at 255, which turns a 16-bit scan into an almost white image.
    """
    values = np.asarray(image)
    finite = np.isfinite(values) if values.dtype.kind == "f" else None
    if finite is not None and not finite.any():
        return Image.new("L", image.size, 0)
    low = float(values.min(initial=np.inf, where=finite) if finite is not None else values.min())
    high = float(values.max(initial=-np.inf, where=finite) if finite is not None else values.max())
    if high <= low:
        # A flat image: keep its brightness on the nominal 16-bit (or 8-bit) scale.
        nominal_max = 65535.0 if image.mode.startswith("I;16") else 255.0
        level = int(np.clip(round(low / nominal_max * 255.0), 0, 255))
        return Image.new("L", image.size, level)
    scaled = values.astype(np.float32)
    del values
    scaled -= np.float32(low)
    scaled *= np.float32(255.0 / (high - low))
    if finite is not None:
        scaled[~finite] = 0.0
    np.clip(scaled, 0.0, 255.0, out=scaled)
    gray = np.rint(scaled).astype(np.uint8)
    del scaled
    return Image.fromarray(gray)


# File extensions a folder scan picks up as images (lower case, with the dot).
IMAGE_EXTENSIONS: tuple[str, ...] = (
    ".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".heic", ".heif", ".avif", ".ppm", ".pgm",
)


def read_image(source: str | os.PathLike[str] | bytes, *, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Decode the first frame of an image file nobody has checked to an upright HxWx3 uint8 RGB array.

    Raises ImageRejected for anything that is not a complete image of at most `max_pixels` pixels, and
    FileNotFoundError / PermissionError for a path that cannot be opened.
    """
    return decode_image(source, max_pixels=max_pixels, min_side=1).rgb
