"""The JSON document record: what one input (an image, or a PDF's pages) became, as written by every writer."""

from __future__ import annotations

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


def result_record(file: str, predictions: Predictions) -> dict[str, Any]:
    """The JSON result of one image: `Predictions.to_dict()` plus the input's file name."""
    return {"file": file, **predictions.to_dict()}


def document_record(file: str, pages: Sequence[PageResult]) -> dict[str, Any]:
    """The JSON of one input: an image's `result_record`, or for a PDF (as the app writes it)
    {"file", "page_count", "pages_read", "note", "pages": [result_record + "page": PageInfo]}."""
    if len(pages) == 1 and pages[0].pdf_page is None:
        return result_record(file, pages[0].predictions)
    count = pages[0].pdf_page.count if pages and pages[0].pdf_page is not None else len(pages)
    return {
        "file": file,
        "page_count": count,
        "pages_read": len(pages),
        "note": truncation_note(count, len(pages)) if count > len(pages) else None,
        "pages": [
            {
                **result_record(file, page.predictions),
                **({"page": page.pdf_page.to_dict()} if page.pdf_page else {}),
                **({"error": page.error} if page.error else {}),
            }
            for page in pages
        ],
    }
