"""Plain text, layout text and JSON exports."""

from __future__ import annotations

import json
from typing import Any, Sequence

from .layout import layout_text
from ..types import Predictions

# Between pages of a multi-page text export (form feed, as pdftotext writes it).
PAGE_SEPARATOR = "\n\f"


def as_pages(pages: Predictions | Sequence[Predictions]) -> list[Predictions]:
    """One page or a sequence of pages -> a list of pages."""
    return [pages] if isinstance(pages, Predictions) else list(pages)


def to_text(pages: Predictions | Sequence[Predictions]) -> str:
    """The lines of each page, one per line, in reading order; pages separated by a form feed."""
    return PAGE_SEPARATOR.join(page.full_text for page in as_pages(pages)) + "\n"


def to_layout_text(pages: Predictions | Sequence[Predictions]) -> str:
    """Each page as rows of text spaced as on the page (see `ocr_model.exporters.layout`); pages separated
    by a form feed."""
    return PAGE_SEPARATOR.join(layout_text(page.polygons, page.texts) for page in as_pages(pages)) + "\n"


def to_json(pages: Predictions | Sequence[Predictions], **extra: Any) -> str:
    """`Predictions.to_dict()` as JSON: the dict itself for one page, else {"pages": [...]};
    `extra` keys are added at the top level."""
    if isinstance(pages, Predictions):
        record: dict[str, Any] = pages.to_dict()
    else:
        record = {"pages": [page.to_dict() for page in pages]}
    record.update(extra)
    return json.dumps(record, ensure_ascii=False, indent=2)
