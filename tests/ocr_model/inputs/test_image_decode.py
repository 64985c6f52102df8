"""Tests for ocr_model/inputs/image_decode.py: the Pillow decoder for untrusted files (app uploads, bulk inputs).

All inputs are generated here, in memory or in pytest's tmp dirs.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import psutil
import pytest
from PIL import Image, ImageFile, ImageOps, features

from ocr_model.inputs import image_decode as decode_module
from conftest import REPO_ROOT, jpeg_scan_bomb
from ocr_model.config import MAX_IMAGE_PIXELS
from ocr_model.inputs.image_decode import (
    DecodedImage,
    ImageRejected,
    check_geometry,
    decode_image,
)


def _encode(image: Image.Image, file_format: str, **save_options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, file_format, **save_options)
    return buffer.getvalue()


def _quadrants(height: int = 40, width: int = 60) -> np.ndarray:
    """An RGB image with four flat, clearly different quadrants (robust to JPEG and to any rotation)."""
    rgb = np.zeros((height, width, 3), np.uint8)
    rgb[: height // 2, : width // 2] = (220, 30, 30)
    rgb[: height // 2, width // 2 :] = (30, 220, 30)
    rgb[height // 2 :, : width // 2] = (30, 30, 220)
    rgb[height // 2 :, width // 2 :] = (240, 240, 40)
    return rgb


def _write_png_stream(path: Path, width: int, height: int, channels: int = 1) -> None:
    """Write a valid all-black 8-bit grey (1) or RGB (3) PNG of any size without holding its pixels in memory."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    compressor = zlib.compressobj(9)
    row_bytes = width * channels + 1  # filter byte 0 + zero pixels
    rows_per_piece = max(1, 8_000_000 // row_bytes)
    piece = b"\0" * (row_bytes * rows_per_piece)
    colour_type = {1: 0, 3: 2}[channels]
    with open(path, "wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n")
        handle.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)))
        rows_left = height
        while rows_left > 0:
            rows = min(rows_per_piece, rows_left)
            compressed = compressor.compress(piece[: row_bytes * rows])
            if compressed:
                handle.write(chunk(b"IDAT", compressed))
            rows_left -= rows
        handle.write(chunk(b"IDAT", compressor.flush()))
        handle.write(chunk(b"IEND", b""))


# --- basic contract -----------------------------------------------------------------------------------


def test_rgb_png_round_trips_exactly_from_path_and_bytes(tmp_path: Path) -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    data = _encode(Image.fromarray(rgb), "PNG")
    path = tmp_path / "upload.png"
    path.write_bytes(data)

    from_path = decode_image(path)
    from_str = decode_image(str(path))
    from_bytes = decode_image(data)

    for decoded in (from_path, from_str, from_bytes):
        assert isinstance(decoded, DecodedImage)
        assert decoded.rgb.dtype == np.uint8
        assert decoded.rgb.shape == (37, 53, 3)
        assert decoded.rgb.flags.c_contiguous and decoded.rgb.flags.writeable
        np.testing.assert_array_equal(decoded.rgb, rgb)
        assert decoded.note is None
        assert decoded.format == "PNG"


def test_missing_path_is_a_server_error_not_a_user_message(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        decode_image(tmp_path / "gone.png")


def test_unsupported_source_type_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        decode_image(12345)  # type: ignore[arg-type]


# --- EXIF orientation ---------------------------------------------------------------------------------


def test_exif_orientation_6_gives_the_upright_image() -> None:
    upright = _quadrants(height=80, width=40)  # portrait, as the user held the phone
    stored = np.ascontiguousarray(np.rot90(upright, k=1))  # what the sensor wrote: landscape
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    data = _encode(Image.fromarray(stored), "JPEG", quality=95, exif=exif.tobytes())

    decoded = decode_image(data)

    assert decoded.rgb.shape == (80, 40, 3)
    error_upright = np.abs(decoded.rgb.astype(int) - upright.astype(int)).mean()
    error_as_stored_rotated_wrong_way = np.abs(decoded.rgb.astype(int) - np.rot90(stored, k=1).astype(int)).mean()
    assert error_upright < 6
    assert error_as_stored_rotated_wrong_way > 60
    assert decoded.note == "Turned 90° clockwise as the photo's EXIF orientation says."  # issue 10 (9): was None
    assert decode_image(_encode(Image.fromarray(upright), "JPEG", quality=95)).note is None


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillows_exif_transpose(orientation: int) -> None:
    stored = np.random.default_rng(orientation).integers(0, 256, (12, 20, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = _encode(Image.fromarray(stored), "PNG", exif=exif.tobytes())

    decoded = decode_image(data)

    with Image.open(io.BytesIO(data)) as reference_image:
        reference = np.asarray(ImageOps.exif_transpose(reference_image).convert("RGB"))
    np.testing.assert_array_equal(decoded.rgb, reference)
    expected_shape = (20, 12, 3) if orientation >= 5 else (12, 20, 3)
    assert decoded.rgb.shape == expected_shape


# --- modes ---------------------------------------------------------------------------------------------


def test_rgba_is_composited_on_white() -> None:
    rgba = np.zeros((10, 12, 4), np.uint8)  # fully transparent black -> must become white
    rgba[0, 0] = (0, 0, 0, 255)  # opaque black stays black
    rgba[0, 1] = (255, 0, 0, 128)  # half-transparent red over white -> pink
    decoded = decode_image(_encode(Image.fromarray(rgba, mode="RGBA"), "PNG"))

    assert decoded.rgb[5, 5].tolist() == [255, 255, 255]
    assert decoded.rgb[0, 0].tolist() == [0, 0, 0]
    red, green, blue = decoded.rgb[0, 1].tolist()
    assert red == 255 and abs(green - 127) <= 1 and abs(blue - 127) <= 1


def test_la_is_composited_on_white() -> None:
    la = Image.new("LA", (10, 10), (0, 0))  # transparent black
    la.putpixel((3, 3), (0, 255))  # opaque black
    decoded = decode_image(_encode(la, "PNG"))
    assert decoded.rgb[0, 0].tolist() == [255, 255, 255]
    assert decoded.rgb[3, 3].tolist() == [0, 0, 0]


def test_palette_with_transparent_index_is_composited_on_white() -> None:
    palette_image = Image.new("P", (10, 10), 0)
    palette_image.putpalette([0, 0, 0, 200, 0, 0] + [0, 0, 0] * 254)  # index 0 black, index 1 red
    palette_image.putpixel((2, 2), 1)
    data = _encode(palette_image, "PNG", transparency=0)
    decoded = decode_image(data)
    assert decoded.rgb[0, 0].tolist() == [255, 255, 255]  # transparent black shows the white background
    assert decoded.rgb[2, 2].tolist() == [200, 0, 0]


def test_palette_without_transparency_keeps_its_colours() -> None:
    palette_image = Image.new("P", (10, 10), 1)
    palette_image.putpalette([0, 0, 0, 10, 120, 250] + [0, 0, 0] * 254)
    decoded = decode_image(_encode(palette_image, "PNG"))
    assert decoded.rgb[4, 4].tolist() == [10, 120, 250]


def test_pa_mode_is_composited_on_white() -> None:
    palette_alpha = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    palette_alpha.putpixel((1, 1), (0, 0, 0, 255))
    converted = decode_module._to_rgb(palette_alpha.convert("PA"))
    assert converted.mode == "RGB"
    assert converted.getpixel((5, 5)) == (255, 255, 255)
    assert converted.getpixel((1, 1)) == (0, 0, 0)


def test_rgb_png_with_colour_key_transparency_is_composited_on_white() -> None:
    rgb = np.full((10, 10, 3), (1, 2, 3), np.uint8)
    rgb[0, 0] = (50, 60, 70)
    decoded = decode_image(_encode(Image.fromarray(rgb), "PNG", transparency=(1, 2, 3)))
    assert decoded.rgb[5, 5].tolist() == [255, 255, 255]
    assert decoded.rgb[0, 0].tolist() == [50, 60, 70]


def test_cmyk_tiff_converts_to_rgb() -> None:
    cmyk = Image.new("CMYK", (10, 10), (0, 0, 0, 0))  # no ink: white
    cmyk.putpixel((1, 1), (255, 0, 0, 0))  # cyan
    cmyk.putpixel((2, 2), (0, 0, 0, 255))  # black
    decoded = decode_image(_encode(cmyk, "TIFF"))
    assert decoded.rgb[5, 5].tolist() == [255, 255, 255]
    assert decoded.rgb[1, 1].tolist() == [0, 255, 255]
    assert decoded.rgb[2, 2].tolist() == [0, 0, 0]


def test_cmyk_jpeg_converts_to_rgb() -> None:
    cmyk = Image.new("CMYK", (32, 32), (0, 0, 0, 0))
    for x in range(16):
        for y in range(32):
            cmyk.putpixel((x, y), (0, 0, 0, 255))
    decoded = decode_image(_encode(cmyk, "JPEG", quality=95))
    assert decoded.rgb.shape == (32, 32, 3)
    assert decoded.rgb[:, :12].max() < 20  # inked half is black
    assert decoded.rgb[:, 20:].min() > 235  # blank half is white


def test_grayscale_and_bilevel_become_equal_rgb_channels() -> None:
    gray = np.tile(np.arange(0, 250, 10, dtype=np.uint8), (9, 1))
    decoded = decode_image(_encode(Image.fromarray(gray), "PNG"))
    assert decoded.rgb.shape == (9, 25, 3)
    for channel in range(3):
        np.testing.assert_array_equal(decoded.rgb[..., channel], gray)

    bilevel = Image.new("1", (16, 16), 0)
    bilevel.putpixel((3, 4), 1)
    decoded_bilevel = decode_image(_encode(bilevel, "PNG"))
    assert decoded_bilevel.rgb[4, 3].tolist() == [255, 255, 255]
    assert decoded_bilevel.rgb[0, 0].tolist() == [0, 0, 0]


def test_16bit_png_is_stretched_over_its_range_not_clipped() -> None:
    # A 12-bit scan stored in a 16-bit PNG: Pillow's own convert() would clip almost everything to white.
    ramp = np.tile(np.linspace(300, 4095, 256).astype(np.uint16), (10, 1))
    image = Image.fromarray(ramp)
    assert image.mode == "I;16"
    naive_levels = np.unique(np.asarray(image.convert("L")))

    decoded = decode_image(_encode(image, "PNG"))

    gray = decoded.rgb[..., 0]
    assert len(naive_levels) <= 2  # shows what the stretch protects against
    assert len(np.unique(gray)) > 200
    assert gray.min() == 0 and gray.max() == 255
    assert np.all(np.diff(gray[0].astype(int)) >= 0)  # brighter input stays brighter


@pytest.mark.parametrize("mode", ["I;16B", "I"])
def test_16bit_big_endian_and_32bit_integer_tiffs_are_stretched(mode: str) -> None:
    ramp = np.tile(np.arange(1000, 1000 + 64 * 100, 100), (8, 1))
    if mode == "I;16B":
        image = Image.frombytes("I;16B", (64, 8), ramp.astype(">u2").tobytes())
    else:
        image = Image.fromarray(ramp.astype(np.int32))
    data = _encode(image, "TIFF")
    with Image.open(io.BytesIO(data)) as reopened:
        assert reopened.mode == mode

    gray = decode_image(data).rgb[..., 0]

    assert len(np.unique(gray)) == 64
    assert gray.min() == 0 and gray.max() == 255


def test_float_tiff_is_stretched_and_nan_becomes_black() -> None:
    values = np.tile(np.linspace(-1.0, 1.0, 100, dtype=np.float32), (10, 1))
    values[0, 0] = np.nan
    data = _encode(Image.fromarray(values), "TIFF")
    with Image.open(io.BytesIO(data)) as reopened:
        assert reopened.mode == "F"

    gray = decode_image(data).rgb[..., 0]

    assert len(np.unique(gray)) > 90
    assert gray[1, 0] == 0 and gray[1, -1] == 255
    assert gray[0, 0] == 0


def test_flat_16bit_image_keeps_its_brightness() -> None:
    white = Image.fromarray(np.full((10, 10), 65535, np.uint16))
    black = Image.fromarray(np.zeros((10, 10), np.uint16))
    assert decode_image(_encode(white, "PNG")).rgb.min() == 255
    assert decode_image(_encode(black, "PNG")).rgb.max() == 0


def test_all_white_and_all_black_images_decode() -> None:
    for value in (0, 255):
        decoded = decode_image(_encode(Image.new("RGB", (64, 48), (value,) * 3), "PNG"))
        assert decoded.rgb.shape == (48, 64, 3)
        assert np.all(decoded.rgb == value)


# --- multi-frame and other formats --------------------------------------------------------------------


def test_animated_gif_uses_first_frame_and_says_so() -> None:
    colours = [(200, 0, 0), (0, 200, 0), (0, 0, 200), (200, 200, 0), (0, 200, 200)]
    frames = [Image.new("RGB", (16, 16), colour) for colour in colours]
    data = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)

    decoded = decode_image(data)

    assert decoded.note == "Animated GIF: used the first of 5 frames."
    assert decoded.rgb[8, 8].tolist() == [200, 0, 0]


def test_multipage_tiff_uses_first_page_and_says_so() -> None:
    pages = [Image.new("L", (20, 20), level) for level in (10, 120, 240)]
    data = _encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])

    decoded = decode_image(data)

    assert decoded.note == "Multi-page TIFF: used the first of 3 pages."
    assert decoded.rgb[5, 5].tolist() == [10, 10, 10]


def test_animated_webp_uses_first_frame_and_says_so() -> None:
    frames = [Image.new("RGB", (16, 16), colour) for colour in ((250, 0, 0), (0, 0, 250), (0, 250, 0))]
    data = _encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    decoded = decode_image(data)
    assert decoded.note == "Animated WEBP image: used the first of 3 frames."
    assert decoded.rgb[8, 8].tolist() == [250, 0, 0]


def test_lossless_webp_round_trips() -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (24, 30, 3), dtype=np.uint8)
    decoded = decode_image(_encode(Image.fromarray(rgb), "WEBP", lossless=True))
    assert decoded.format == "WEBP"
    np.testing.assert_array_equal(decoded.rgb, rgb)


def test_avif_decodes() -> None:
    assert features.check("avif"), "this Pillow build lacks AVIF support"
    upright = _quadrants(64, 64)
    decoded = decode_image(_encode(Image.fromarray(upright), "AVIF", quality=95))
    assert decoded.format == "AVIF"
    assert decoded.rgb.shape == (64, 64, 3)
    assert np.abs(decoded.rgb.astype(int) - upright.astype(int)).mean() < 8


def test_heic_decodes_when_pillow_heif_is_installed() -> None:
    pytest.importorskip("pillow_heif", reason="optional HEIC plugin not installed")
    upright = _quadrants(64, 64)
    data = _encode(Image.fromarray(upright), "HEIF", quality=95)
    assert data[4:12] == b"ftypheic"

    decoded = decode_image(data)

    assert decoded.format == "HEIF"
    assert np.abs(decoded.rgb.astype(int) - upright.astype(int)).mean() < 8


def test_heic_without_plugin_gets_a_clean_unsupported_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decode_module, "HEIF_SUPPORTED", False)
    fake_heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    with pytest.raises(ImageRejected, match="HEIC/HEIF images are not supported"):
        decode_image(fake_heic)


# --- not images, damaged images ------------------------------------------------------------------------


def test_zero_byte_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    for source in (empty, b""):
        with pytest.raises(ImageRejected, match=r"empty \(0 bytes\)"):
            decode_image(source)


def test_text_renamed_png_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "notes.png"
    fake.write_text("Shopping list:\n- milk\n- bread\n" * 20 + "caf\u00e9 \u2713\n", encoding="utf-8")
    with pytest.raises(ImageRejected, match="text file, not an image"):
        decode_image(fake)


def test_zip_renamed_png_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "photos.png"
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("a.png", _encode(Image.new("RGB", (10, 10)), "PNG"))
    with pytest.raises(ImageRejected, match="ZIP archive, not an image"):
        decode_image(fake)


def test_pdf_and_random_bytes_are_refused() -> None:
    with pytest.raises(ImageRejected, match="PDF documents are not supported"):
        decode_image(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    random_bytes = np.random.default_rng(2).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    with pytest.raises(ImageRejected, match="not an image in a supported format"):
        decode_image(b"\x01\x02" + random_bytes)


def test_svg_gets_its_own_message() -> None:
    svg = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'
    with pytest.raises(ImageRejected, match="SVG"):
        decode_image(svg)


def test_formats_outside_the_whitelist_are_refused() -> None:
    # Pillow itself reads these, but they have no place in an OCR upload box (EPS would even run Ghostscript).
    image = Image.new("RGB", (16, 16), (9, 9, 9))
    for file_format in ("TGA", "PCX", "SGI"):
        data = _encode(image, file_format)
        with Image.open(io.BytesIO(data)) as reopened:
            assert reopened.size == (16, 16)
        with pytest.raises(ImageRejected):
            decode_image(data)


@pytest.mark.parametrize("kept_fraction", [0.3, 0.9, "all_but_end_marker"])
def test_truncated_jpeg_is_an_explicit_error_never_a_grey_image(kept_fraction: float | str) -> None:
    noise = np.random.default_rng(3).integers(0, 256, (200, 300, 3), dtype=np.uint8)
    data = _encode(Image.fromarray(noise), "JPEG", quality=90)
    cut = len(data) - 2 if kept_fraction == "all_but_end_marker" else int(len(data) * kept_fraction)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    with pytest.raises(ImageRejected, match="damaged or truncated"):
        decode_image(data[:cut])


def test_truncated_png_is_an_explicit_error() -> None:
    noise = np.random.default_rng(4).integers(0, 256, (100, 100, 3), dtype=np.uint8)
    data = _encode(Image.fromarray(noise), "PNG")
    with pytest.raises(ImageRejected, match="damaged or truncated"):
        decode_image(data[: len(data) // 2])


def test_decoder_refuses_to_run_if_truncated_images_are_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RuntimeError, match="LOAD_TRUNCATED_IMAGES"):
        decode_image(_encode(Image.new("RGB", (16, 16)), "PNG"))


# --- geometry and decompression bombs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "message"),
    [
        (1, 1, "too small"),
        (1, 50000, "too small"),
        (50000, 1, "too small"),
        (7, 500, "too small"),
        (0, 100, "too small"),
        (10, 600, "too elongated"),
        (3000, 40, "too elongated"),
        (7000, 6000, "too large"),
        (20000, 20000, "too large"),
    ],
)
def test_check_geometry_refuses(width: int, height: int, message: str) -> None:
    with pytest.raises(ImageRejected, match=message):
        check_geometry(width, height)


@pytest.mark.parametrize(("width", "height"), [(8, 8), (400, 20000), (20000, 400), (6000, 6000), (7000, 5000)])
def test_check_geometry_accepts(width: int, height: int) -> None:
    check_geometry(width, height)  # a 35 MP scan (7000x5000) and a 50:1 receipt are fine


def test_check_geometry_limits_are_per_call_arguments() -> None:
    check_geometry(100, 100, max_pixels=10_000)
    with pytest.raises(ImageRejected, match="too large"):
        check_geometry(101, 100, max_pixels=10_000)
    check_geometry(4, 4, min_side=4)
    check_geometry(10, 990, max_aspect_ratio=100)
    with pytest.raises(ValueError, match="invalid limits"):
        check_geometry(10, 10, max_pixels=0)


def test_default_pixel_cap_is_below_pillows_and_above_35mp_scans() -> None:
    assert Image.MAX_IMAGE_PIXELS is not None
    assert 35_000_000 < MAX_IMAGE_PIXELS < Image.MAX_IMAGE_PIXELS


@pytest.mark.parametrize(("width", "height", "message"), [(1, 1, "too small"), (50000, 1, "too small"), (1, 50000, "too small"), (600, 10, "too elongated")])
def test_decode_refuses_bad_geometry_from_real_files(width: int, height: int, message: str) -> None:
    data = _encode(Image.new("L", (width, height), 255), "PNG")
    with pytest.raises(ImageRejected, match=message):
        decode_image(data)


def test_decode_applies_max_pixels_argument() -> None:
    data = _encode(Image.new("RGB", (100, 100), (1, 2, 3)), "PNG")
    assert decode_image(data).rgb.shape == (100, 100, 3)
    with pytest.raises(ImageRejected, match="too large"):
        decode_image(data, max_pixels=9_999)


_MEASURE_DECODE_IN_CHILD = """
import json, resource, sys, time
from PIL import Image
from ocr_model.inputs.image_decode import ImageRejected, decode_image
if sys.argv[2] == "pillow-limit-off":
    Image.MAX_IMAGE_PIXELS = None  # prove the app's own cap is enough on its own
peak_before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
    decode_image(sys.argv[1])
    outcome = "decoded"
except ImageRejected as error:
    outcome = str(error)
elapsed_s = time.perf_counter() - started
peak_growth_bytes = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before_kib) * 1024
print(json.dumps({"outcome": outcome, "elapsed_s": elapsed_s, "peak_growth_bytes": peak_growth_bytes}))
"""


def _decode_in_fresh_process(path: Path, pillow_limit: str) -> dict[str, object]:
    """Decode in a child process and report its PEAK RSS growth (ru_maxrss), which a freed buffer cannot hide."""
    repo_root = REPO_ROOT
    completed = subprocess.run(
        [sys.executable, "-c", _MEASURE_DECODE_IN_CHILD, str(path), pillow_limit],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def bomb_20000_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "bomb.png"
    _write_png_stream(path, 20000, 20000)
    return path


def test_decompression_bomb_is_refused_from_the_header_fast_and_without_memory(bomb_20000_png: Path) -> None:
    size_bytes = bomb_20000_png.stat().st_size
    assert size_bytes < 600_000  # ~400 KB on disk, 400 MB of pixels
    process = psutil.Process()
    rss_before = process.memory_info().rss
    started = time.perf_counter()

    with pytest.raises(ImageRejected, match="too large"):
        decode_image(bomb_20000_png)

    elapsed_s = time.perf_counter() - started
    rss_growth = process.memory_info().rss - rss_before
    # Generous bounds that a full decode (400 MB of pixels, seconds of inflate) cannot meet.
    assert elapsed_s < 1.0, f"took {elapsed_s:.2f} s"
    assert rss_growth < 100 * 1024 * 1024, f"RSS grew by {rss_growth / 1e6:.0f} MB"


@pytest.mark.slow  # decodes a 400 MP bomb in a fresh interpreter
@pytest.mark.parametrize("pillow_limit", ["pillow-default", "pillow-limit-off"])
def test_decompression_bomb_peak_memory_stays_flat(bomb_20000_png: Path, pillow_limit: str) -> None:
    # With Pillow's own limit switched off, only the app's cap stands between the upload and 400 MB of pixels.
    measured = _decode_in_fresh_process(bomb_20000_png, pillow_limit)
    assert "too large" in str(measured["outcome"])
    assert float(measured["elapsed_s"]) < 1.0
    assert int(measured["peak_growth_bytes"]) < 100 * 1024 * 1024


@pytest.mark.slow  # writes a 49 MP PNG, decodes it in a fresh interpreter
def test_bomb_under_pillows_limit_is_refused_by_our_own_cap(tmp_path: Path) -> None:
    # 49 MP RGB: Pillow alone would decode it silently (below its 89 MP warning); the app's 40 MP cap refuses
    # it from the header, so the peak RSS does not grow by the ~150-200 MB a decode would need.
    path = tmp_path / "49mp.png"
    _write_png_stream(path, 7000, 7000, channels=3)
    with Image.open(path) as opened:
        assert opened.size == (7000, 7000)
    measured = _decode_in_fresh_process(path, "pillow-default")
    assert "too large" in str(measured["outcome"])
    assert int(measured["peak_growth_bytes"]) < 20 * 1024 * 1024


# --- bounded decode work -------------------------------------------------------------------------------------


def test_progressive_jpeg_scan_bomb_is_refused_in_milliseconds() -> None:
    bomb = jpeg_scan_bomb(repeats=16000)
    assert len(bomb) < 1_500_000
    started = time.perf_counter()
    with pytest.raises(ImageRejected, match="progressive scans"):
        decode_image(bomb)
    assert time.perf_counter() - started < 1.0


def test_progressive_jpegs_within_the_scan_limit_decode() -> None:
    decoded = decode_image(jpeg_scan_bomb(size=640, repeats=80))  # 86 scans: unusual but allowed
    assert decoded.rgb.shape == (640, 640, 3)
    with pytest.raises(ImageRejected, match="more than 50 progressive scans"):
        decode_image(jpeg_scan_bomb(size=640, repeats=80), max_scans=50)


def test_page_count_of_a_huge_multipage_tiff_is_bounded() -> None:
    pages = [Image.new("L", (8, 8), index % 256) for index in range(1200)]
    buffer = io.BytesIO()
    pages[0].save(buffer, "TIFF", save_all=True, append_images=pages[1:])
    started = time.perf_counter()
    decoded = decode_image(buffer.getvalue(), min_side=8)
    assert time.perf_counter() - started < 2.0
    assert decoded.note == "Multi-page TIFF: used the first of more than 1000 pages."
    assert int(decoded.rgb[0, 0, 0]) == 0  # the first page, not the last one visited while counting


def test_decoding_a_large_image_allocates_one_copy_of_its_pixels(tmp_path: Path) -> None:
    # The pixels leave Pillow band by band into the result. np.asarray(image) went through tobytes(), which
    # holds its chunks and their join at once: measured 2.2x the RGB size that way, 1.4x band by band
    # (tracemalloc sees numpy arrays and bytes; Pillow's own pixel memory is the same either way).
    height, width = 1500, 2000
    path = tmp_path / "noise.png"
    Image.fromarray(np.random.default_rng(3).integers(0, 256, (height, width, 3), dtype=np.uint8)).save(
        path, compress_level=1
    )
    tracemalloc.start()
    try:
        rgb = decode_image(path).rgb
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rgb.shape == (height, width, 3) and rgb.flags.writeable
    assert peak < 1.7 * rgb.nbytes, f"peak {peak / rgb.nbytes:.2f}x the RGB size"
