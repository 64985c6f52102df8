"""The export formats, defined once for the app, the bulk command line and Ray: name, file suffix, media
type and writer, and the rule that names an export's file.

Naming: an export is `<base><suffix>`; the app's base is the upload's stem (`scan.png` -> `scan.txt`,
`scan.layout.txt`, `scan.json`, `scan.hocr`, `scan.searchable.pdf`), the command line's is the input's file
name, extension kept so that `a.jpg` and `a.png` stay apart (`a.jpg.json`, `a.jpg.layout.txt`, ...). A base is
cut to fit BEFORE the suffix is added (`fit_base`), so two formats of one input never share a name however
long the input's name is; a cut base ends in `~` and 8 hex digits of the full name's SHA-256, so two long
names that share a beginning stay apart too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..config import PAGE_DPI
from ..types import Predictions
from .hocr import to_hocr
from .pdf import PdfPage, to_searchable_pdf
from .text import to_layout_text, to_text


@dataclass(frozen=True)
class ExportDocument:
    """What the writers need of one input (an image, or a PDF's pages read)."""

    title: str  # the input's file name, for the hOCR page titles
    predictions: Sequence[Predictions]  # one per page
    record: Any  # the JSON document: exporters.records.document_record, for the app, the command line and Ray
    pdf_pages: Sequence[PdfPage] = ()  # each page's image for the searchable PDF; empty when not kept


def _write_json(document: ExportDocument) -> bytes:
    return json.dumps(document.record, ensure_ascii=False, indent=2).encode("utf-8")


def json_line(record: Any) -> str:
    """The JSON document on one line (Ray's JSON lines output): the same record as the `.json` export."""
    return json.dumps(record, ensure_ascii=False)


def _write_text(document: ExportDocument) -> bytes:
    return to_text(document.predictions).encode("utf-8")


def _write_layout(document: ExportDocument) -> bytes:
    return to_layout_text(document.predictions).encode("utf-8")


def _write_hocr(document: ExportDocument) -> bytes:
    return to_hocr(document.predictions, titles=[document.title]).encode("utf-8")


def _write_pdf(document: ExportDocument) -> bytes:
    if not document.pdf_pages:
        raise ValueError("the searchable PDF needs the pages' images, which were not kept")
    return to_searchable_pdf(document.pdf_pages, dpi=PAGE_DPI)


@dataclass(frozen=True)
class ExportFormat:
    name: str  # what --format and the app's buttons call it
    suffix: str  # added to the base name
    media_type: str
    description: str
    write: Callable[[ExportDocument], bytes]
    needs_images: bool = False  # the pages' pixels must be kept until it is written


# Module-level writers, not lambdas: the formats travel to the command line's worker processes (pickled).
FORMATS: dict[str, ExportFormat] = {
    "json": ExportFormat("json", ".json", "application/json", "the JSON document (lines, words, boxes)", _write_json),
    "txt": ExportFormat("txt", ".txt", "text/plain; charset=utf-8", "lines in reading order; pages separated by a form feed", _write_text),
    "layout": ExportFormat("layout", ".layout.txt", "text/plain; charset=utf-8", "rows of text spaced as on the page", _write_layout),
    "hocr": ExportFormat("hocr", ".hocr", "application/xhtml+xml", "hOCR (XHTML) with line and word boxes", _write_hocr),
    "pdf": ExportFormat(
        "pdf", ".searchable.pdf", "application/pdf", "searchable PDF: each page's image with an invisible text layer",
        _write_pdf, needs_images=True,
    ),
}

LONGEST_SUFFIX = max(len(fmt.suffix.encode("utf-8")) for fmt in FORMATS.values())
_HASH_CHARS = 8


def fit_base(base: str, max_bytes: int) -> str:
    """`base` if it fits in `max_bytes` of UTF-8, else its beginning plus `~` and 8 hex digits of its SHA-256
    (so that names cut to the same beginning stay distinct). Cut before any suffix is added."""
    encoded = base.encode("utf-8", "surrogateescape")
    if len(encoded) <= max_bytes:
        return base
    digest = hashlib.sha256(encoded).hexdigest()[:_HASH_CHARS]
    room = max(0, max_bytes - _HASH_CHARS - 1)
    head = encoded[:room].decode("utf-8", "ignore")  # never half a character
    return f"{head}~{digest}"


def export_name(base: str, fmt: ExportFormat | str, max_bytes: int) -> str:
    """The file name of one format of one input: `fit_base(base)` + the format's suffix, at most `max_bytes`."""
    fmt = FORMATS[fmt] if isinstance(fmt, str) else fmt
    return fit_base(base, max_bytes - LONGEST_SUFFIX) + fmt.suffix


def split_export_name(name: str) -> tuple[str, str]:
    """(base, suffix) of an export's file name: the longest registered suffix it ends with, else its extension."""
    for suffix in sorted((fmt.suffix for fmt in FORMATS.values()), key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], suffix
    dot = name.rfind(".")
    return (name[:dot], name[dot:]) if dot > 0 else (name, "")


def parse_formats(text: str) -> list[ExportFormat]:
    """`"json,txt"` -> the formats, in that order, without duplicates; ValueError names unknown ones."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in FORMATS]
    if unknown or not names:
        raise ValueError(f"unknown output format(s) {', '.join(unknown) or repr(text)}; available: {', '.join(FORMATS)}")
    return [FORMATS[name] for name in dict.fromkeys(names)]


def write_all(document: ExportDocument, base: str, formats: Sequence[ExportFormat], max_bytes: int) -> dict[str, bytes]:
    """Every format of one input: {file name: content}, the names unique by construction."""
    return {export_name(base, fmt, max_bytes): fmt.write(document) for fmt in formats}


__all__ = [
    "ExportDocument",
    "ExportFormat",
    "FORMATS",
    "export_name",
    "fit_base",
    "json_line",
    "parse_formats",
    "split_export_name",
    "write_all",
]
