"""One OCR result as the app keeps it, and the bounded per-session history of results.

A result holds display-size data only: a JPEG of the downscaled image (no drawings), a
small thumbnail and the predictions (polygons in ORIGINAL image coordinates). Nothing
full-size is ever stored. A session's history is bounded twice: at most `capacity` entries
and at most `max_bytes` (`entry_bytes` of each, summed), the oldest dropped first; the
app makes each preview fit `max_bytes / capacity` (demo/handlers.py: `fit_preview`).

An upload of several pages (a PDF) is ONE entry, a `Document` holding its pages, so a long PDF
does not push the session's other results out; its pages' previews share `document_budget`
bytes (at most a quarter of the history), made smaller as the page count grows.

History is an immutable tuple, newest first; `push` returns a new tuple.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ocr_model.types import Predictions

from demo.render import DisplayTransform



@dataclass(frozen=True)
class OcrResult:
    name: str  # file name shown in captions and the JSON
    preview_jpeg: bytes  # the display-size copy, without drawings
    thumbnail_jpeg: bytes  # for the history gallery
    transform: DisplayTransform  # original <-> display coordinates
    predictions: Predictions  # polygons in original image coordinates
    note: str | None = None  # e.g. "animated GIF: first of 5 frames used"
    options: tuple[tuple[str, object], ...] = field(default_factory=tuple)  # model options used
    elapsed_s: float = 0.0  # wall time of decode + predict + preview


@dataclass(frozen=True)
class Document:
    """The pages read from one upload of several pages (a PDF), kept as one history entry."""

    name: str  # the uploaded file's name
    pages: tuple[OcrResult, ...]  # in page order; at least one
    page_count: int = 0  # pages in the file (more than len(pages) when only the first ones were read)

    def __post_init__(self) -> None:
        if not self.pages or not all(isinstance(page, OcrResult) for page in self.pages):
            raise ValueError("a Document needs one or more OcrResult pages")

    @property
    def thumbnail_jpeg(self) -> bytes:
        return self.pages[0].thumbnail_jpeg


HistoryEntry = OcrResult | Document
# Real classes, not a string forward reference: Gradio resolves event handlers' type hints (to find
# gr.SelectData) in the UI module, where a name like "Document" in a string would not resolve.
History = tuple[HistoryEntry, ...]

# The share of the history's bytes one document may hold: with it, a long PDF leaves at least three
# quarters of the budget to the session's other results.
DOCUMENT_SHARE = 4


def document_budget(max_bytes: int, capacity: int, pages: int) -> int:
    """Bytes one page of a `pages`-page document may use (preview, thumbnail and predictions): the
    document as a whole stays within max_bytes / DOCUMENT_SHARE, and a page never gets more than a
    single image's share (max_bytes / capacity)."""
    if pages < 1 or capacity < 1 or max_bytes < 1:
        raise ValueError(f"pages, capacity and max_bytes must be >= 1, got {pages}, {capacity}, {max_bytes}")
    return min(max_bytes // capacity, max_bytes // DOCUMENT_SHARE // pages)


def entry_pages(entry: HistoryEntry) -> tuple[OcrResult, ...]:
    """The results an entry holds: a document's pages, or the result itself."""
    return entry.pages if isinstance(entry, Document) else (entry,)


def entry_caption(entry: HistoryEntry) -> str:
    """The gallery caption: "scan.png · 12 lines", "scan.png · 1 line", "report.pdf · 20 pages"."""
    if isinstance(entry, Document):
        read = len(entry.pages)
        pages = f"{read} page{'s' if read != 1 else ''}"
        if entry.page_count > read:
            pages = f"{read} of {entry.page_count} pages"
        return f"{entry.name} · {pages}"
    lines = len(entry.predictions)
    return f"{entry.name} · {lines} line{'s' if lines != 1 else ''}"


# Per line beyond its polygon and text: the Python objects that hold them (measured with
# tracemalloc over a 60-line result: ~330 bytes a line; rounded up).
_LINE_OVERHEAD_BYTES = 400
# A document entry beyond its pages (the object and its tuple of pages).
DOCUMENT_BYTES = 1024


def entry_bytes(entry: HistoryEntry) -> int:
    """Memory one history entry holds: its JPEGs, polygons and texts, over all of a document's pages
    (an upper estimate)."""
    if isinstance(entry, Document):
        return sum(_result_bytes(page) for page in entry.pages) + DOCUMENT_BYTES
    return _result_bytes(entry)


def _result_bytes(result: OcrResult) -> int:
    predictions = result.predictions
    polygons = sum(int(getattr(polygon, "nbytes", 64)) for polygon in predictions.polygons)
    texts = sum(len(text.encode("utf-8")) for text in predictions.texts)
    return (
        len(result.preview_jpeg)
        + len(result.thumbnail_jpeg)
        + polygons
        + texts
        + _LINE_OVERHEAD_BYTES * len(predictions.texts)
        + 1024
    )


def history_bytes(history: History) -> int:
    return sum(entry_bytes(entry) for entry in history)


def push(history: History, result: HistoryEntry, capacity: int, max_bytes: int | None = None) -> History:
    """A new history with `result` (an image's result or a whole document) first, at most `capacity`
    entries and, when `max_bytes` is given, at most that many bytes (oldest dropped; the new entry is
    always kept)."""
    if capacity < 1:
        raise ValueError(f"capacity must be >= 1, got {capacity}")
    if max_bytes is not None and max_bytes < 1:
        raise ValueError(f"max_bytes must be >= 1, got {max_bytes}")
    if not isinstance(result, (OcrResult, Document)):
        raise ValueError(f"expected an OcrResult or a Document, got {type(result).__name__}")
    kept = [result]
    used = entry_bytes(result)
    for entry in tuple(history)[: capacity - 1]:
        size = entry_bytes(entry)
        if max_bytes is not None and used + size > max_bytes:
            break
        kept.append(entry)
        used += size
    return tuple(kept)


def get(history: History, index: int) -> HistoryEntry:
    """The entry at gallery position `index` (0 = newest), or ValueError if out of range."""
    if not 0 <= index < len(history):
        raise ValueError(f"history has {len(history)} entries, no entry {index}")
    return history[index]
