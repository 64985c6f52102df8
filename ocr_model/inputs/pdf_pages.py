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
- every page is rendered in a separate process (`pdf_process.py`) capped in memory and time per page
  (`OCR_PDF_PAGE_MB`, `OCR_PDF_PAGE_SECONDS`): a page past them comes back as a blank placeholder with
  `Page.error` saying so, and the other pages are still read.
Encrypted, damaged, empty and degenerate files raise `PdfError` (a ValueError) with a message
for the user.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from ..config import MAX_IMAGE_PIXELS, PAGE_DPI, positive_int_from_env
from .pdf_process import Limits, PageRenderer, RenderFailed, RenderRefused, shared_renderer
from .pdf_render_worker import MAX_SIDE, PDF_MAGIC
from .pdf_render_worker import render_scale as _worker_render_scale

LOG = logging.getLogger(__name__)
# PDFium in this process (the searchable-PDF exporter) is not thread-safe: every call into it holds this.
PDFIUM_LOCK = threading.RLock()
DEFAULT_MAX_PAGES = 20
MAX_PAGES_ENV = "OCR_MAX_PDF_PAGES"
PLACEHOLDER_SIDE = 64  # px, long side of the blank image standing in for a page that was not rendered
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
    `error`: why the page could not be rendered (a message for the user, "Page 2 could not be rendered
    within 5 s / 1024 MB."); `image` is then a small blank placeholder of the page's shape.
    """

    number: int
    page_count: int
    image: np.ndarray
    size_pt: tuple[float, float]
    scale: float
    error: str | None = None

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
    `max_pixels` and each side under `MAX_SIDE` (the renderer process computes it the same way)."""
    try:
        return _worker_render_scale(size_pt, dpi, max_pixels)
    except ValueError as error:
        raise PdfError(str(error)) from None


def truncation_note(page_count: int, max_pages: int) -> str | None:
    """A note for the user when a document has more pages than are read, else None."""
    if page_count <= max_pages:
        return None
    return f"This PDF has {page_count} pages; only the first {max_pages} were read (the limit per document)."


def page_note(page: Page, max_pages: int, dpi: float = PAGE_DPI, max_pixels: int = MAX_IMAGE_PIXELS) -> str:
    """The note of a PDF page's result (the app and the command line give it in the JSON): "Page 2 of 3.",
    plus why the page was not rendered, or that it was rendered below `dpi` to stay under `max_pixels`, plus
    `truncation_note` when the document has more than `max_pages` pages."""
    notes = [f"Page {page.number} of {page.page_count}"]
    if page.error:
        notes.append(page.error.rstrip("."))
    elif page.dpi < dpi - 0.5:
        notes.append(f"rendered at {page.dpi:.0f} dpi to stay under the {max_pixels / 1e6:g} MP limit")
    cut = truncation_note(page.page_count, max_pages)
    if cut:
        notes.append(cut)
    # The truncation note is a sentence of its own (it ends in "."): one full stop, not "..".
    note = "; ".join(notes)
    return note if note.endswith(".") else note + "."


def pdf_page_count(source: Source, limits: Limits | None = None) -> int:
    """Pages in the document (raises PdfError for unreadable, encrypted or empty files)."""
    limits = Limits.from_env() if limits is None else limits
    renderer = shared_renderer()
    key = object()
    with renderer.lock:
        try:
            return _open(renderer, _data(source), key, limits)
        finally:
            renderer.close_document(key)


def iter_pdf_pages(
    source: Source,
    dpi: float = PAGE_DPI,
    max_pages: int | None = None,
    max_pixels: int = MAX_IMAGE_PIXELS,
    limits: Limits | None = None,
) -> Iterator[Page]:
    """Render the first `max_pages` pages one at a time (only one page's pixels in memory), each in the
    renderer process under `limits` (default: `OCR_PDF_PAGE_SECONDS`, `OCR_PDF_PAGE_MB`).

    A page that cannot be rendered (over a limit, or refused by PDFium) comes as a blank placeholder with
    `error` set, and the pages after it are still rendered. The document is opened before the first page
    is yielded, so an unreadable file raises `PdfError` on the first `next()`.
    """
    if not 1 <= dpi <= 1200:
        raise ValueError(f"dpi must be in [1, 1200], got {dpi}")
    limit = default_max_pages() if max_pages is None else max_pages
    if limit < 1:
        raise ValueError(f"max_pages must be at least 1, got {limit}")
    limits = Limits.from_env() if limits is None else limits
    renderer = shared_renderer()
    data = _data(source)
    key = object()  # names this document to the renderer, which other callers may use between pages
    try:
        with renderer.lock:
            count = _open(renderer, data, key, limits)
        for index in range(min(count, limit)):
            with renderer.lock:
                page = _render(renderer, data, key, index, count, dpi, max_pixels, limits)
            yield page
    finally:
        renderer.close_document(key)


def render_pdf_pages(
    source: Source,
    dpi: float = PAGE_DPI,
    max_pages: int | None = None,
    max_pixels: int = MAX_IMAGE_PIXELS,
    limits: Limits | None = None,
) -> list[Page]:
    """All rendered pages at once (see `iter_pdf_pages`; mind the memory: up to max_pages x
    max_pixels x 3 bytes)."""
    return list(iter_pdf_pages(source, dpi=dpi, max_pages=max_pages, max_pixels=max_pixels, limits=limits))


def _data(source: Source) -> bytes | str:
    return bytes(source) if isinstance(source, (bytes, bytearray, memoryview)) else os.fspath(source)


def _open(renderer: PageRenderer, data: bytes | str, key: object, limits: Limits) -> int:
    try:
        return renderer.open(data, key, limits)
    except RenderRefused as refused:
        raise PdfError(refused.message) from None
    except RenderFailed as failed:
        LOG.warning("PDF not opened: %s", failed.reason)
        raise PdfError(f"This PDF could not be opened within {limits.describe()}.") from None


def _render(
    renderer: PageRenderer, data: bytes | str, key: object, index: int, count: int, dpi: float, max_pixels: int, limits: Limits
) -> Page:
    """Page `index`, or a placeholder saying why not. A child killed on the page before is replaced here
    and given the document again (`open` is a no-op while it still holds it)."""
    try:
        _open(renderer, data, key, limits)
        rendered = renderer.render(index, dpi, max_pixels, limits)
    except RenderRefused as refused:
        return _placeholder(index, count, renderer.last_size_pt, refused.message)
    except RenderFailed as failed:
        LOG.warning("PDF page %d not rendered: %s", index + 1, failed.reason)
        return _placeholder(index, count, renderer.last_size_pt, f"Page {index + 1} could not be rendered within {limits.describe()}.")
    except PdfError as error:  # the replaced child could not open the document again
        return _placeholder(index, count, renderer.last_size_pt, f"Page {index + 1} was not rendered: {error}")
    return Page(number=index + 1, page_count=count, image=rendered.image, size_pt=rendered.size_pt, scale=rendered.scale)


def _placeholder(index: int, count: int, size_pt: tuple[float, float] | None, error: str) -> Page:
    """A white page of the page's shape (Letter when its size is unknown), PLACEHOLDER_SIDE px on its
    long side, for a page that was not rendered: every reader of `Page.image` still gets an image."""
    width, height = size_pt or (612.0, 792.0)
    scale = PLACEHOLDER_SIDE / max(width, height)
    shape = (max(1, round(height * scale)), max(1, round(width * scale)), 3)
    return Page(index + 1, count, np.full(shape, 255, dtype=np.uint8), (width, height), scale, error=error)
