"""The JSON document record: what one input (an image, or a PDF's pages) became.

The one builder of that JSON: the app (demo/handlers.py: its downloads, `/ocr`, the batch JSON), the command
line (batch/outputs.py) and Ray (batch/distributed.py) all call `document_record` / `result_record`, so the
same result gives the same fields and values whoever writes it. An image's record:

    {"file", "image_size", "device", "checkpoint", "timings", "note", "rotation", "min_confidence",
     "lines_total", "lines": [{"line", "text", "confidence", "polygon", "words"}, ...]}

plus `"page"` (`PageInfo.to_dict()`) for a PDF page, and `"error"` for a PDF page that could not be rendered.
A PDF's record is {"file", "checkpoint", "page_count", "pages_read", "note", "pages": [one record per page]}.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..inputs.pdf_pages import PageInfo, truncation_note
from ..types import Predictions


@dataclass(frozen=True)
class PageResult:
    """One image of an input (the image file itself, or one rendered PDF page) and what the engine found.
    Not `inputs.pdf_pages.Page`, which is a rendered page's pixels before the engine reads it."""

    predictions: Predictions
    image: np.ndarray | bytes | None = None  # RGB pixels or JPEG bytes, kept only when an output needs them
    pdf_page: PageInfo | None = None
    error: str | None = None  # why a PDF page could not be rendered (its predictions are then empty)
    note: str | None = None  # what the reader should know, e.g. "animated GIF: first of 5 frames used"


def shown_confidence(confidence: float) -> float:
    """The confidence as the app shows it: rounded DOWN to 3 decimals (0.9996 shows as 0.999).

    Rounding down never overstates a confidence, and the filter compares this same value, so a
    line shown as "1.000" is never hidden by "Hide lines below 1.00".
    """
    return math.floor(float(confidence) * 1000 + 1e-6) / 1000


def passes_filter(confidence: float, min_confidence: float) -> bool:
    """True when a line of this confidence is kept at this filter setting (compares shown values)."""
    return shown_confidence(confidence) >= round(float(min_confidence), 3)


def shown_lines(predictions: Predictions, min_confidence: float) -> list[int]:
    """Positions (0-based) of the lines whose shown confidence is at least `min_confidence`."""
    return [i for i, confidence in enumerate(predictions.confidences) if passes_filter(confidence, min_confidence)]


def page_name(file: str, pdf_page: PageInfo | None) -> str:
    """The `file` of one image's record: the input's name, or for a PDF page "scan.pdf · page 2 of 3"."""
    return file if pdf_page is None else f"{file} · page {pdf_page.number} of {pdf_page.count}"


def result_record(
    file: str,
    predictions: Predictions,
    *,
    note: str | None = None,
    pdf_page: PageInfo | None = None,
    error: str | None = None,
    min_confidence: float = 0.0,
) -> dict[str, Any]:
    """The JSON of one image: `Predictions.to_dict()` with the lines whose shown confidence is at least
    `min_confidence` (each numbered by its place among all lines, `line`, 1-based), plus the input's `file`,
    the `note`, the filter and the count of all lines; polygons in the ORIGINAL image's pixels."""
    full = predictions.to_dict()
    record: dict[str, Any] = {
        "file": file,
        "image_size": full["image_size"],
        "device": full["device"],
        "checkpoint": full["checkpoint"],
        "timings": full["timings"],
        "note": note,
        "rotation": full["rotation"],
        "min_confidence": float(min_confidence),
        "lines_total": len(predictions),
        "lines": [dict(full["lines"][i], line=i + 1) for i in shown_lines(predictions, min_confidence)],
    }
    if pdf_page is not None:
        record["page"] = pdf_page.to_dict()  # pixels are the rendered page's; page size in PDF points
    if error:
        record["error"] = error
    return record


def page_record(file: str, page: PageResult, min_confidence: float = 0.0) -> dict[str, Any]:
    """`result_record` of one page of the input `file` (named by `page_name`)."""
    return result_record(
        page_name(file, page.pdf_page),
        page.predictions,
        note=page.note,
        pdf_page=page.pdf_page,
        error=page.error,
        min_confidence=min_confidence,
    )


def document_record(file: str, pages: Sequence[PageResult], min_confidence: float = 0.0) -> dict[str, Any]:
    """The JSON of one input: an image's `result_record`, or for a PDF
    {"file", "checkpoint", "page_count", "pages_read", "note", "pages": [page_record per page read]}."""
    if len(pages) == 1 and pages[0].pdf_page is None:
        return page_record(file, pages[0], min_confidence)
    count = pages[0].pdf_page.count if pages and pages[0].pdf_page is not None else len(pages)
    return {
        "file": file,
        "checkpoint": pages[0].predictions.checkpoint if pages else "",
        "page_count": count,
        "pages_read": len(pages),
        "note": truncation_note(count, len(pages)) if count > len(pages) else None,
        "pages": [page_record(file, page, min_confidence) for page in pages],
    }


def filter_record(record: dict[str, Any], min_confidence: float) -> dict[str, Any]:
    """An image's record (as `result_record(..., min_confidence=0.0)` made it) with only the lines the filter
    keeps, so a kept record can follow a later filter change without the result. Records without lines (an
    app batch's `{"file", "error"}` for a refused file) pass through unchanged."""
    if "lines" not in record:
        return dict(record)
    lines = [line for line in record["lines"] if passes_filter(line["confidence"], min_confidence)]
    return {**record, "min_confidence": float(min_confidence), "lines": lines}
