"""PDF input: rendering at 200 dpi under the pixel cap, the page limit, and bad files."""

import threading

import numpy as np
import pytest

from ocr_model.inputs.pdf_pages import (
    MAX_SIDE,
    PdfError,
    default_max_pages,
    is_pdf,
    iter_pdf_pages,
    pdf_page_count,
    render_pdf_pages,
    render_scale,
    truncation_note,
)
from conftest import REPO_ROOT
from pdf_samples import blank_pdf, broken_pdf, encrypted_pdf, pdf_of_images, text_page, zero_page_pdf


def test_pages_render_at_200_dpi_with_their_size_in_points_and_scale(tmp_path):
    data = blank_pdf([(612, 792), (300, 200)], rotations=[0, 90])
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    for source in (data, path, str(path)):
        first, second = render_pdf_pages(source)
        assert (first.number, first.page_count) == (1, 2) and (second.number, second.page_count) == (2, 2)
        assert first.size_pt == (612.0, 792.0) and first.dpi == pytest.approx(200.0)
        assert first.image.shape == (2200, 1700, 3) and first.image.dtype == np.uint8
        assert first.image.flags.c_contiguous and int(first.image.min()) == 255  # white page, RGB
        # /Rotate 90: rendered and measured as displayed
        assert second.size_pt == (200.0, 300.0) and second.image.shape[:2] == (834, 556)


def test_rendered_pixels_follow_the_page_content():
    page_image = text_page(["HELLO"], size=(400, 300), top=100)
    (page,) = render_pdf_pages(pdf_of_images([page_image], resolution=100.0))
    assert page.size_pt == pytest.approx((288.0, 216.0))  # 400 x 300 px at 100 dpi
    ink_rows = np.nonzero(np.asarray(page_image).min(axis=(1, 2)) < 128)[0]
    dark_rows = np.nonzero(page.image.min(axis=(1, 2)) < 128)[0]
    # drawn at 100 dpi, rendered at 200 dpi: twice the pixel rows
    assert abs(dark_rows.min() - 2 * ink_rows.min()) <= 3 and abs(dark_rows.max() - 2 * ink_rows.max() - 1) <= 3


def test_a_huge_page_is_rendered_under_the_pixel_cap():
    (page,) = render_pdf_pages(blank_pdf([(14400, 14400)]))  # 200 x 200 inches
    assert page.image.shape[0] * page.image.shape[1] <= 40_000_000
    assert page.scale == pytest.approx(np.sqrt(40_000_000 / 14400**2), rel=0.01)  # ~31.6 dpi
    assert max(page.image.shape[:2]) <= MAX_SIDE
    # a thin strip: the side cap applies
    assert render_scale((14400, 10)) == pytest.approx(MAX_SIDE / 14400)
    (small,) = render_pdf_pages(blank_pdf([(612, 792)]), max_pixels=1_000_000)
    assert small.image.shape[0] * small.image.shape[1] <= 1_000_000


def test_only_the_first_max_pages_of_a_500_page_pdf_are_rendered(monkeypatch):
    data = blank_pdf([(100, 100)] * 500)
    assert pdf_page_count(data) == 500
    pages = render_pdf_pages(data, dpi=20)
    assert len(pages) == 20 and pages[-1].number == 20 and pages[-1].page_count == 500
    assert "500 pages" in truncation_note(500, 20) and "first 20" in truncation_note(500, 20)
    assert truncation_note(20, 20) is None
    monkeypatch.setenv("OCR_MAX_PDF_PAGES", "3")
    assert default_max_pages() == 3 and len(render_pdf_pages(data, dpi=20)) == 3
    assert len(render_pdf_pages(data, dpi=20, max_pages=5)) == 5
    monkeypatch.setenv("OCR_MAX_PDF_PAGES", "zero")
    with pytest.raises(ValueError, match="OCR_MAX_PDF_PAGES"):
        default_max_pages()


def test_pages_are_rendered_lazily_one_at_a_time():
    pages = iter_pdf_pages(blank_pdf([(100, 100)] * 3), dpi=20)
    first = next(pages)
    assert first.number == 1
    pages.close()  # abandoning the iterator closes the document


@pytest.mark.parametrize(
    "data,message",
    [
        (encrypted_pdf(), "password-protected"),
        (zero_page_pdf(), "no pages"),
        (broken_pdf(), "not a readable PDF"),
        (b"", "not a readable PDF"),
    ],
)
def test_bad_pdfs_raise_a_clear_pdf_error(data, message):
    with pytest.raises(PdfError, match=message):
        render_pdf_pages(data)
    with pytest.raises(ValueError, match=message):  # PdfError is a ValueError
        pdf_page_count(data)


def test_is_pdf_and_bad_arguments():
    assert is_pdf(b"%PDF-1.7\n...") and is_pdf(b"\r\n junk %PDF-1.4") and not is_pdf(b"\x89PNG")
    with pytest.raises(ValueError, match="dpi"):
        render_pdf_pages(blank_pdf([(100, 100)]), dpi=0)
    with pytest.raises(ValueError, match="max_pages"):
        render_pdf_pages(blank_pdf([(100, 100)]), max_pages=0)
    with pytest.raises(PdfError, match="invalid size"):
        render_scale((0.0, 100.0))


def test_threads_can_render_at_the_same_time():
    data = pdf_of_images([text_page(["A"], size=(200, 200))] * 2)
    errors, shapes = [], []

    def work():
        try:
            shapes.extend(page.image.shape for page in render_pdf_pages(data))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(shapes) == 8


@pytest.mark.slow  # a fresh interpreter renders a 900 MP image
def test_a_page_with_a_900_megapixel_image_renders_in_bounded_memory(tmp_path):
    """PDFium scales embedded images down while decoding: a 30000 x 30000 image (0.9 GB decoded)
    on a small page must not cost its full size. Measured in a fresh process (peak RSS is per process):
    the page is rendered in the renderer child (counted once it has exited) and sent back."""
    import subprocess
    import sys

    from pdf_samples import huge_image_pdf

    path = tmp_path / "bomb.pdf"
    path.write_bytes(huge_image_pdf(30000))
    assert path.stat().st_size < 2_000_000
    script = (
        "import resource, sys; from ocr_model.inputs.pdf_pages import render_pdf_pages; "
        "from ocr_model.inputs.pdf_process import shared_renderer; "
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
        "(page,) = render_pdf_pages(sys.argv[1]); "
        "assert shared_renderer().pid is not None; shared_renderer().stop(); "
        "print(page.image.shape[0], page.image.shape[1], "
        "(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024, "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)"
    )
    root = REPO_ROOT
    result = subprocess.run([sys.executable, "-c", script, str(path)], cwd=root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    height, width, grown_mib, child_mib = (int(value) for value in result.stdout.split())
    assert (height, width) == (556, 556)
    assert 0 < child_mib < 300, f"the renderer process peaked at {child_mib} MiB"
    assert grown_mib < 300, f"rendering grew the process by {grown_mib} MiB"
