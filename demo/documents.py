"""Documents next to the image decoder: PDF sniffing and page rendering, and the export files.

An upload is routed here before `ocr_model/inputs/image_decode.py` sees it: a PDF (sniffed from its bytes, never
from its name) becomes its pages, rendered by `ocr_model.inputs.pdf_pages` under the same pixel cap
as an image upload, at most `OCR_MAX_PDF_PAGES` pages; anything else goes to the image decoder
unchanged. The path handed in is the one the upload gate (demo/components.py) accepted.

Exports (`export_files`, `zip_exports`) are built from what the history keeps: the display-size
preview and the predictions (polygons in the original pixels), never a full-size image.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ocr_model.config import MAX_IMAGE_PIXELS, PAGE_DPI
from ocr_model.exporters import PdfPage
from ocr_model.exporters.formats import FORMATS, ExportDocument, fit_base, split_export_name, write_all
from ocr_model.inputs.pdf_pages import (
    PageInfo,
    PdfError,
    default_max_pages,
    is_pdf,
    iter_pdf_pages,
    page_note,
)



@dataclass(frozen=True)
class DecodedPage:
    """One image to read: the whole upload (an image) or one rendered PDF page."""

    rgb: np.ndarray
    note: str | None
    page: PageInfo | None = None
    # why a PDF page could not be rendered; `rgb` is then a blank placeholder, not to be read
    error: str | None = None


def is_pdf_upload(source: str | os.PathLike[str] | bytes) -> bool:
    """Whether an upload is a PDF (`is_pdf`: from its first bytes, not its name)."""
    try:
        return is_pdf(source)
    except OSError:
        return False  # the decoder reports the problem


def decode_pages(
    source: str | os.PathLike[str] | bytes,
    decode: Callable[[Any], Any],
    max_pages: int | None = None,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> Iterator[DecodedPage]:
    """The images of an upload, one at a time: the decoded image, or each rendered PDF page.

    Raises a ValueError with a user-facing message for files that cannot be read (the image
    decoder's `ImageRejected`, or `PdfError`) before the first page is yielded.
    """
    if not is_pdf_upload(source):
        decoded = decode(source)
        yield DecodedPage(decoded.rgb, decoded.note, None)
        return
    limit = default_max_pages() if max_pages is None else max_pages
    data = bytes(source) if isinstance(source, (bytes, bytearray, memoryview)) else os.fspath(source)
    for page in iter_pdf_pages(data, dpi=PAGE_DPI, max_pages=limit, max_pixels=max_pixels):
        yield DecodedPage(page.image, page_note(page, limit, PAGE_DPI, max_pixels), page.info, page.error)


def safe_stem(name: str, limit: int = 60) -> str:
    """A file-name stem safe for downloads and zip entries (no separators, no dot files)."""
    stem = os.path.splitext(os.path.basename(str(name).replace("\\", "/")))[0]
    stem = re.sub(r"[^\w.\-]+", "_", stem, flags=re.UNICODE).strip("._")[:limit]
    return stem or "ocr"


@dataclass(frozen=True)
class ExportPage:
    """What one exported page needs: the display-size JPEG, the predictions (original pixels),
    and the PDF page it came from (None for an image)."""

    preview_jpeg: bytes
    predictions: Any
    page: PageInfo | None = None


# Longest export file name in bytes (a file system allows 255; the cache folder's writer may add a prefix).
MAX_EXPORT_NAME_BYTES = 200


def export_files(pages: Sequence[ExportPage], name: str, record: dict[str, Any]) -> dict[str, bytes]:
    """The download files of one upload (all its pages): {file name: content}, in FORMATS order.

    Named `<stem><suffix>` by `ocr_model.exporters.formats` (`scan.txt`, `scan.layout.txt`, `scan.json`,
    `scan.hocr`, `scan.searchable.pdf`), the stem cut before the suffix, so the names never collide.
    The JSON is `record` (ocr_model/exporters/records.py `document_record`); the searchable PDF holds each page's preview
    with an invisible text layer, at the PDF page's size in points or the image's pixels at 200 dpi. A PDF's
    own pages are never loaded here: that would parse them outside the renderer process's limits.
    """
    if not pages:
        raise ValueError("nothing to export")
    predictions = [page.predictions for page in pages]
    document = ExportDocument(
        title=os.path.basename(str(name)),
        predictions=predictions,
        record=record,
        pdf_pages=[
            PdfPage(
                page.preview_jpeg,
                page.predictions,
                page.page.size_pt if page.page else None,
            )
            for page in pages
        ],
    )
    return write_all(document, safe_stem(name), list(FORMATS.values()), MAX_EXPORT_NAME_BYTES)


def _entry_name(file_name: str) -> tuple[str, str]:
    """(base, suffix) of a zip entry: no folders, no dot files, the format's suffix kept whole (a long base
    is cut before it, never the suffix)."""
    base, suffix = split_export_name(os.path.basename(str(file_name).replace("\\", "/")))
    if len(suffix) > 24:  # not a format's suffix: part of the name, cut with it
        base, suffix = base + suffix, ""
    base = re.sub(r"[^\w.\-]+", "_", base, flags=re.UNICODE).strip("._") or "ocr"
    suffix = re.sub(r"[^\w.\-]+", "_", suffix, flags=re.UNICODE)
    return fit_base(base, MAX_EXPORT_NAME_BYTES - len(suffix.encode("utf-8"))), suffix


class ExportArchive:
    """A zip built one upload at a time: each upload's export files in a folder of its own
    (`<n>_<stem>/...`), so a batch never holds more than one file's exports unzipped. Every entry name is
    unique: a name already in the zip gets `~2`, `~3`... before its suffix, so extracting it gives as many
    files as it has entries."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        self._zip = zipfile.ZipFile(self._buffer, "w", compression=zipfile.ZIP_DEFLATED)
        self._count = 0
        self._used: set[str] = set()

    def add(self, name: str, files: dict[str, bytes]) -> None:
        self._count += 1
        folder = f"{self._count:02d}_{safe_stem(name)}"
        for file_name, content in files.items():
            base, suffix = _entry_name(file_name)
            entry, copy = f"{folder}/{base}{suffix}", 1
            while entry.casefold() in self._used:  # casefold: case-insensitive file systems extract them too
                copy += 1
                entry = f"{folder}/{base}~{copy}{suffix}"
            self._used.add(entry.casefold())
            self._zip.writestr(entry, content)

    def getvalue(self) -> bytes:
        self._zip.close()
        return self._buffer.getvalue()


def zip_exports(groups: Sequence[tuple[str, dict[str, bytes]]]) -> bytes:
    """One zip holding each upload's export files in a folder of its own (`<n>_<stem>/...`)."""
    archive = ExportArchive()
    for name, files in groups:
        archive.add(name, files)
    return archive.getvalue()


__all__ = [
    "DecodedPage",
    "ExportArchive",
    "ExportPage",
    "PageInfo",
    "PdfError",
    "decode_pages",
    "export_files",
    "is_pdf_upload",
    "safe_stem",
    "zip_exports",
]
