"""PDF pages rendered in a capped, timed, killable child process (issue 14): the four PDF bombs are each
cut off at the limit with a per-page message, the pages after them are still read, this process's memory
does not move, and a killed child is replaced for the next page.

Limits are small here (2 s / 256 MB) so that each bomb costs the test about 2 s; the defaults are larger.
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import psutil
import pytest

import pdf_bombs
from ocr_model.config import DEFAULT_PDF_PAGE_MB, DEFAULT_PDF_PAGE_SECONDS
from ocr_model.inputs.pdf_pages import PdfError, iter_pdf_pages, pdf_page_count, render_pdf_pages
from ocr_model.inputs.pdf_process import Limits, page_megabytes, page_seconds, shared_renderer

LIMITS = Limits(seconds=2.0, megabytes=256)
MESSAGE = "Page {} could not be rendered within 2 s / 256 MB."
# Killing the child, starting a fresh one (python + pypdfium2) and sending it the document again, on a
# loaded 2-core machine: what a bomb page may take beyond its limit.
SLACK_S = 3.0


def _is_normal_page(page) -> bool:
    """The bombs' normal page: 400 px square at 200 dpi with a black square in its middle."""
    image = page.image
    return page.error is None and image.shape == (400, 400, 3) and image[200, 200].max() == 0 and image[5, 5].min() == 255


BOMBS = {
    # builder, pages that must be cut off, whether the child had to be killed (the JPEG 2000 image is
    # refused before rendering: its codestream's size is read first)
    "inflating_content": (pdf_bombs.inflating_content_pdf, [1], True),
    "jpx_claiming_60000_square": (pdf_bombs.jpx_claiming_pdf, [1], False),
    "image_drawn_60_times": (pdf_bombs.repeated_image_pdf, [1], True),
    "stroke_storm": (pdf_bombs.stroke_storm_pdf, [1, 2], True),
}


@pytest.mark.slow  # waits for the renderer's time limit on full-size bombs
@pytest.mark.parametrize("name", sorted(BOMBS))
def test_a_pdf_bomb_is_cut_off_at_the_limit_and_the_next_page_is_read(name):
    build, bomb_pages, killed = BOMBS[name]
    data = build()
    assert len(data) < 1_200_000  # ~1 MB or less on disk
    renderer = shared_renderer()
    # start the child first (a fresh process in this test's session), so the timings below are the pages'
    assert len(render_pdf_pages(pdf_bombs.normal_pdf(1), limits=LIMITS)) == 1
    process = psutil.Process()
    rss_before = process.memory_info().rss
    pid_before = renderer.pid

    pages, times = [], []
    started = time.monotonic()
    for page in iter_pdf_pages(data, limits=LIMITS):
        times.append(time.monotonic() - started)
        pages.append(page)
        started = time.monotonic()
    grown_mb = (process.memory_info().rss - rss_before) / 1e6

    assert [page.number for page in pages] == list(range(1, len(bomb_pages) + 2))
    for page in pages[:-1]:
        assert page.error == MESSAGE.format(page.number)
        assert times[page.number - 1] < LIMITS.seconds + SLACK_S, times
        assert page.image.max() == 255 and max(page.image.shape[:2]) == 64  # the blank placeholder
    assert _is_normal_page(pages[-1]), pages[-1].error
    assert grown_mb < 100, f"this process grew by {grown_mb:.0f} MB"
    assert renderer.pid is not None and (renderer.pid != pid_before) == killed  # an overrunning child is replaced


def test_a_killed_child_is_replaced_and_the_next_page_renders():
    renderer = shared_renderer()
    pages = iter_pdf_pages(pdf_bombs.normal_pdf(3), limits=LIMITS)
    assert _is_normal_page(next(pages))
    first_child = renderer.pid
    os.kill(first_child, signal.SIGKILL)  # as if a page had crashed it
    psutil.Process(first_child).wait(timeout=10)
    second, third = list(pages)
    assert _is_normal_page(second) and _is_normal_page(third)
    assert renderer.pid not in (None, first_child)


def test_a_page_over_the_memory_cap_fails_alone_when_the_time_allows_it():
    """The 1 GiB content stream under a generous deadline: only the address-space cap stops it (PDFium
    stops the child when an allocation fails)."""
    renderer = shared_renderer()
    render_pdf_pages(pdf_bombs.normal_pdf(1), limits=LIMITS)
    child = renderer.pid
    data = pdf_bombs.inflating_content_pdf()
    started = time.monotonic()
    bomb, normal = render_pdf_pages(data, limits=Limits(seconds=60.0, megabytes=256))
    assert time.monotonic() - started < 30  # without the cap: 24 s and +2 GB
    assert bomb.error == "Page 1 could not be rendered within 60 s / 256 MB." and _is_normal_page(normal)
    assert renderer.pid not in (None, child)


@pytest.mark.slow  # renders a 40 MP page
def test_the_legitimate_worst_case_renders_within_the_default_limits():
    """A 14,400 pt page with a full-page scan, rendered at the 40 MP cap (6,319 px square)."""
    (page,) = render_pdf_pages(pdf_bombs.worst_case_pdf(), limits=Limits.from_env())
    assert page.error is None and page.image.shape == (6319, 6319, 3)
    assert page.image.min() < 64  # the scan's text came through


def test_unreadable_files_still_raise_a_pdf_error_from_the_child():
    with pytest.raises(PdfError, match="not a readable PDF"):
        pdf_page_count(b"%PDF-1.7\n" + b"\x00garbage" * 50, limits=LIMITS)
    assert pdf_page_count(pdf_bombs.normal_pdf(2), limits=LIMITS) == 2


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.delenv("OCR_PDF_PAGE_SECONDS", raising=False)
    monkeypatch.delenv("OCR_PDF_PAGE_MB", raising=False)
    assert (page_seconds(), page_megabytes()) == (DEFAULT_PDF_PAGE_SECONDS, DEFAULT_PDF_PAGE_MB)
    monkeypatch.setenv("OCR_PDF_PAGE_SECONDS", "3")
    monkeypatch.setenv("OCR_PDF_PAGE_MB", "300")
    assert Limits.from_env() == Limits(3.0, 300) and Limits.from_env().describe() == "3 s / 300 MB"
    monkeypatch.setenv("OCR_PDF_PAGE_MB", "-1")
    with pytest.raises(ValueError, match="OCR_PDF_PAGE_MB"):
        page_megabytes()


def test_pixels_arrive_intact_through_the_pipe():
    """Rows come back in bands: a page whose every row differs must arrive exactly as PDFium drew it."""
    builder = pdf_bombs.PdfBuilder()
    stripes = b"".join(b"%.3f g 0 %d 200 1 re f\n" % ((row % 7) / 7, row) for row in range(0, 300))
    builder.page(stripes, size=300.0)
    (page,) = render_pdf_pages(builder.build(), dpi=72, limits=LIMITS)
    assert page.image.shape == (300, 300, 3)
    column = page.image[::-1, 100, 0].astype(int)  # PDF y goes up, image rows go down
    expected = np.array([round((row % 7) / 7 * 255) for row in range(300)])
    assert np.abs(column - expected).max() <= 1
    assert (page.image[:, 250] == 255).all()  # right of the stripes: white, RGB in every channel
