"""Counting a JPEG's scans from its markers (ocr_model/inputs/jpeg_scans.py), and both decoders refusing scan bombs."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from conftest import jpeg_scan_bomb
from ocr_model.inputs.image_decode import ImageRejected, read_image
from ocr_model.inputs.jpeg_scans import MAX_JPEG_SCANS, jpeg_scan_count


def _progressive(size: tuple[int, int] = (320, 200), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "white").save(buffer, "JPEG", progressive=True, quality=90)
    return buffer.getvalue()


def test_scan_count_of_ordinary_jpegs() -> None:
    assert jpeg_scan_count(_progressive()) == 10  # libjpeg's default progressive script for colour
    assert jpeg_scan_count(_progressive(mode="L")) == 6
    baseline = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(baseline, "JPEG")
    assert jpeg_scan_count(baseline.getvalue()) == 1


def test_scan_count_skips_markers_inside_metadata_segments() -> None:
    data = _progressive()
    # An APP15 segment full of SOS-looking bytes (as an EXIF thumbnail or ICC profile may hold) is skipped whole.
    payload = b"\xff\xda\x00\x08" * 500
    segment = b"\xff\xef" + (len(payload) + 2).to_bytes(2, "big") + payload
    assert jpeg_scan_count(data[:2] + segment + data[2:]) == 10


def test_a_scan_bomb_costs_milliseconds_to_count() -> None:
    bomb = jpeg_scan_bomb(repeats=16000)
    started = time.perf_counter()
    assert jpeg_scan_count(bomb, stop_after=MAX_JPEG_SCANS) == MAX_JPEG_SCANS + 1
    assert jpeg_scan_count(bomb) == 16006
    assert time.perf_counter() - started < 0.5


def test_the_command_lines_decoder_refuses_scan_bombs_too(tmp_path) -> None:
    path = tmp_path / "scans.jpg"
    path.write_bytes(jpeg_scan_bomb(repeats=16000))
    started = time.perf_counter()
    with pytest.raises(ImageRejected, match="progressive scans"):
        read_image(path)
    with pytest.raises(ImageRejected, match="progressive scans"):
        read_image(path.read_bytes())
    assert time.perf_counter() - started < 1.0
    assert read_image(_progressive()).shape == (200, 320, 3)  # an ordinary progressive JPEG still reads
