"""PDF input: render the pages of a PDF into RGB images with pypdfium2 (PDFium).

    from ocr_model.inputs.pdf_pages import render_pdf_pages, iter_pdf_pages
    for page in iter_pdf_pages("scan.pdf"):          # one page in memory at a time
        prediction = get_model().predict(page.image)
        print(f"page {page.number} of {page.page_count}", page.size_pt, page.scale)

Bounds, whatever the file says:
- pages render at `dpi` (default `PAGE_DPI`, 200), scaled down so that each stays under `max_pixels`
  (default `MAX_IMAGE_PIXELS`, 40 MP, the same cap as an image) and each side under `MAX_SIDE` px: a 200x200 inch
  page renders at ~31 dpi instead of 1.6 gigapixels;
- at most `max_pages` pages (default `OCR_MAX_PDF_PAGES`, 20): later pages are not rendered
  (`truncation_note` says so); a 500-page file costs what a 20-page one does.
Encrypted, damaged, empty and degenerate files raise `PdfError` (a ValueError) with a message
for the user. PDFium is not thread-safe: every call into it holds `PDFIUM_LOCK`.
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from ..config import MAX_IMAGE_PIXELS, PAGE_DPI, positive_int_from_env

PDFIUM_LOCK = threading.RLock()
DEFAULT_MAX_PAGES = 20
MAX_PAGES_ENV = "OCR_MAX_PDF_PAGES"
MAX_SIDE = 16_384  # px, either side of a rendered page
PDF_MAGIC = b"%PDF-"
SNIFF_BYTES = 1024  # how far into a file `is_pdf` looks for PDF_MAGIC

Source = Union[str, "os.PathLike[str]", bytes]


class PdfError(ValueError):
    """A PDF that cannot be read; the message can be shown to the user."""


@dataclass(frozen=True)
class PageInfo:
    """Where an image came from in a PDF: page `number` of `count`, the displayed page's size in PDF
    points (1/72 inch) and the render scale (pixels per point). The app's JSON and the command line's
    give it as `to_dict()`."""

    number: int
    count: int
    size_pt: tuple[float, float]
    scale: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "count": self.count,
            "width_pt": round(self.size_pt[0], 3),
            "height_pt": round(self.size_pt[1], 3),
            "scale": round(self.scale, 6),
            "dpi": round(self.scale * 72.0, 3),
        }


@dataclass(frozen=True)
class Page:
    """One rendered page.

    `image`: HxWx3 uint8 RGB, the page as displayed (its /Rotate applied); `number`: 1-based;
    `page_count`: pages in the whole document (more than were rendered when it was cut);
    `size_pt`: (width, height) of the displayed page in PDF points (1/72 inch); `scale`: pixels
    per point of this render (dpi / 72, lower when the pixel cap scaled the page down).
    A pixel (x, y) of `image` is the point (x / scale, y / scale) from the page's top-left.
    """

    number: int
    page_count: int
    image: np.ndarray
    size_pt: tuple[float, float]
    scale: float

    @property
    def dpi(self) -> float:
        return self.scale * 72.0

    @property
    def info(self) -> PageInfo:
        return PageInfo(self.number, self.page_count, self.size_pt, self.scale)


def default_max_pages() -> int:
    """`OCR_MAX_PDF_PAGES` (a positive integer), else 20."""
    value = positive_int_from_env(MAX_PAGES_ENV)
    return DEFAULT_MAX_PAGES if value is None else value


def is_pdf(source: Source) -> bool:
    """Whether a file is a PDF, from its first bytes, never its name: the header may follow up to 1 KiB of
    junk. `source` is the file's bytes (or its first KiB) or its path (OSError if it cannot be read)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        head = bytes(source[:SNIFF_BYTES])
    else:
        with open(os.fspath(source), "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    return PDF_MAGIC in head


def render_scale(size_pt: tuple[float, float], dpi: float = PAGE_DPI, max_pixels: int = MAX_IMAGE_PIXELS) -> float:
    """Pixels per point for a page of `size_pt`: dpi / 72, lowered to keep the page under
    `max_pixels` and each side under `MAX_SIDE`."""
    width, height = size_pt
    if not (math.isfinite(width) and math.isfinite(height)) or width <= 0 or height <= 0:
        raise PdfError(f"a page has an invalid size ({width} x {height} points)")
    scale = dpi / 72.0
    scale = min(scale, math.sqrt(max_pixels / (width * height)), MAX_SIDE / max(width, height))
    # the renderer rounds each side up: stay under the caps after rounding too
    while scale > 0 and (
        math.ceil(width * scale) * math.ceil(height * scale) > max_pixels or math.ceil(max(width, height) * scale) > MAX_SIDE
    ):
        scale *= 0.999
    return scale


def truncation_note(page_count: int, max_pages: int) -> str | None:
    """A note for the user when a document has more pages than are read, else None."""
    if page_count <= max_pages:
        return None
    return f"This PDF has {page_count} pages; only the first {max_pages} were read (the limit per document)."


def _open(source: Source):
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    data = source if isinstance(source, (bytes, bytearray)) else os.fspath(source)
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        code = getattr(error, "err_code", None)
        # PDFium's last-error code is process-global and can be stale, so "password" is only
        # believed when the file has an /Encrypt entry.
        if code == raw.FPDF_ERR_PASSWORD and _mentions_encryption(data):
            raise PdfError("This PDF is password-protected. Remove the password and upload it again.") from None
        if _has_no_page_objects(data):  # PDFium refuses documents whose page tree is empty
            raise PdfError("This PDF has no pages.") from None
        raise PdfError("This file is not a readable PDF (it may be damaged or incomplete).") from None


def _head(data: bytes | str, limit: int = 64 << 20) -> bytes:
    if isinstance(data, str):
        try:
            with open(data, "rb") as handle:
                return handle.read(limit)
        except OSError:
            return b""
    return bytes(data[:limit])


def _mentions_encryption(data: bytes | str) -> bool:
    return b"/Encrypt" in _head(data)


def _has_no_page_objects(data: bytes | str) -> bool:
    """A file whose page tree says /Count 0 and that has no /Type /Page object: a PDF without
    pages (a damaged or cut-off file that lost its pages still says how many it had)."""
    head = _head(data)
    return (
        is_pdf(head)
        and re.search(rb"/Count\s+0(?![0-9])", head) is not None
        and re.search(rb"/Type\s*/Page(?![A-Za-z])", head) is None
    )


def pdf_page_count(source: Source) -> int:
    """Pages in the document (raises PdfError for unreadable, encrypted or empty files)."""
    with PDFIUM_LOCK:
        document = _open(source)
        try:
            count = len(document)
        finally:
            document.close()
    if count < 1:
        raise PdfError("This PDF has no pages.")
    return count


def iter_pdf_pages(
    source: Source,
    dpi: float = PAGE_DPI,
    max_pages: int | None = None,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> Iterator[Page]:
    """Render the first `max_pages` pages one at a time (only one page's pixels in memory).

    The document is opened before the first page is yielded, so an unreadable file raises
    `PdfError` on the first `next()`.
    """
    if not 1 <= dpi <= 1200:
        raise ValueError(f"dpi must be in [1, 1200], got {dpi}")
    limit = default_max_pages() if max_pages is None else max_pages
    if limit < 1:
        raise ValueError(f"max_pages must be at least 1, got {limit}")
    with PDFIUM_LOCK:
        document = _open(source)
    try:
        with PDFIUM_LOCK:
            count = len(document)
        if count < 1:
            raise PdfError("This PDF has no pages.")
        for index in range(min(count, limit)):
            with PDFIUM_LOCK:
                page = _render(document, index, count, dpi, max_pixels)
            yield page
    finally:
        with PDFIUM_LOCK:
            document.close()


def render_pdf_pages(
    source: Source,
    dpi: float = PAGE_DPI,
    max_pages: int | None = None,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> list[Page]:
    """All rendered pages at once (see `iter_pdf_pages`; mind the memory: up to max_pages x
    max_pixels x 3 bytes)."""
    return list(iter_pdf_pages(source, dpi=dpi, max_pages=max_pages, max_pixels=max_pixels))


def _render(document, index: int, count: int, dpi: float, max_pixels: int) -> Page:
    import pypdfium2 as pdfium

    try:
        page = document[index]
    except (pdfium.PdfiumError, IndexError):
        raise PdfError(f"Page {index + 1} of this PDF could not be read (the file may be damaged).") from None
    try:
        width, height = page.get_size()  # as displayed: PDFium applies the page's /Rotate
        scale = render_scale((width, height), dpi, max_pixels)
        try:
            bitmap = page.render(scale=scale, rev_byteorder=True)
        except pdfium.PdfiumError:
            raise PdfError(f"Page {index + 1} of this PDF could not be rendered.") from None
        try:
            pixels = bitmap.to_numpy()
            image = np.ascontiguousarray(pixels[:, :, :3]) if pixels.ndim == 3 else np.repeat(pixels[:, :, None], 3, 2)
        finally:
            bitmap.close()
    finally:
        page.close()
    return Page(number=index + 1, page_count=count, image=image, size_pt=(float(width), float(height)), scale=scale)
