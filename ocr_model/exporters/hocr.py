"""hOCR export: XHTML with ocr_page / ocr_line / ocrx_word elements, bbox and x_wconf.

See the hOCR 1.2 specification (kba.github.io/hocr-spec/1.2). Coordinates are the
predictions' pixels (the image as passed to the engine; for PDF pages, the rendered page).
"""

from __future__ import annotations

import re
from typing import Sequence
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from ..types import Predictions
from .text import as_pages


def box(polygon: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of a polygon, integer pixels clamped to the image."""
    points = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    x0, y0 = np.floor(points.min(axis=0))
    x1, y1 = np.ceil(points.max(axis=0))
    x0, x1 = (int(min(max(value, 0), width)) for value in (x0, x1))
    y0, y1 = (int(min(max(value, 0), height)) for value in (y0, y1))
    return x0, y0, x1, y1


def bbox(polygon: np.ndarray, width: int, height: int) -> str:
    """`bbox x0 y0 x1 y1` of a polygon, integer pixels clamped to the image."""
    return "bbox {} {} {} {}".format(*box(polygon, width, height))


def within(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """`inner` clipped to `outer` (an hOCR word lies inside its line: a word polygon from the
    recognizer's character columns can reach a pixel or two past the detected line box)."""
    x0, y0 = (min(max(value, low), high) for value, low, high in zip(inner[:2], outer[:2], outer[2:]))
    x1, y1 = (min(max(value, low), high) for value, low, high in zip(inner[2:], (x0, y0), outer[2:]))
    return x0, y0, x1, y1


def baseline_angle(polygon: np.ndarray) -> float:
    """Text angle in degrees, counter-clockwise (hOCR `textangle`), from the bottom edge."""
    points = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    direction = points[2] - points[3] if len(points) >= 4 else np.array([1.0, 0.0])
    return float(np.degrees(np.arctan2(-direction[1], direction[0])))


def to_hocr(
    pages: Predictions | Sequence[Predictions],
    titles: Sequence[str] | None = None,
    language: str | None = None,
) -> str:
    """An XHTML hOCR document, one `ocr_page` per page.

    `titles`: the image (or PDF) name of each page, written as the page's `image` property
    (one name for all pages is fine). Lines without word boxes get one `ocrx_word` holding
    the whole line. `x_wconf` is the confidence in percent (0-100).
    """
    pages = as_pages(pages)
    names = list(titles or [])
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
        f'<html xmlns="http://www.w3.org/1999/xhtml" xml:lang={quoteattr(language or "und")} lang={quoteattr(language or "und")}>',
        "<head>",
        "<title>OCR result</title>",
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />',
        '<meta name="ocr-system" content="ocr_model (PP-OCRv6 on PyTorch)" />',
        '<meta name="ocr-capabilities" content="ocr_page ocr_line ocrx_word ocrp_wconf" />',
        "</head>",
        "<body>",
    ]
    for number, page in enumerate(pages, start=1):
        height, width = (int(value) for value in page.image_size)
        title = f"bbox 0 0 {width} {height}; ppageno {number - 1}"
        if names:
            image = names[number - 1] if len(names) >= number else names[-1]
            title = f"image {quote_title(image)}; " + title
        if page.rotation:
            title += f"; x_rotation {page.rotation}"
        out.append(f'<div class="ocr_page" id="page_{number}" title={quoteattr(title)}>')
        for line_number, (polygon, text, confidence) in enumerate(
            zip(page.polygons, page.texts, page.confidences), start=1
        ):
            line_id = f"line_{number}_{line_number}"
            angle = baseline_angle(polygon)
            line_box = box(polygon, width, height)
            line_title = "bbox {} {} {} {}".format(*line_box)
            if abs(angle) >= 0.5:
                line_title += f"; textangle {round(angle) % 360}"
            line_title += f"; x_wconf {wconf(confidence)}"
            out.append(f'<span class="ocr_line" id="{line_id}" title={quoteattr(line_title)}>')
            words = page.line_words(line_number - 1) or ()
            items = [(word.polygon, word.text, word.confidence) for word in words] or [(polygon, text, confidence)]
            parts = []
            for word_number, (word_polygon, word_text, word_confidence) in enumerate(items, start=1):
                word_box = within(box(word_polygon, width, height), line_box)
                word_title = "bbox {} {} {} {}; x_wconf {}".format(*word_box, wconf(word_confidence))
                parts.append(
                    f'<span class="ocrx_word" id="word_{number}_{line_number}_{word_number}" '
                    f"title={quoteattr(word_title)}>{xml_text(word_text)}</span>"
                )
            out.append(" ".join(parts))
            out.append("</span>")
        out.append("</div>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


# Characters XML 1.0 does not allow (C0 controls other than tab/newline/CR, surrogates, U+FFFE/F).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    """`value` escaped for XML text, with characters XML cannot hold removed."""
    return escape(_NOT_XML.sub("", str(value)))


def wconf(confidence: float) -> int:
    return int(round(min(1.0, max(0.0, float(confidence))) * 100))


def quote_title(value: str) -> str:
    """A double-quoted hOCR property value (backslash and quote escaped; no line breaks)."""
    cleaned = " ".join(_NOT_XML.sub("", str(value)).split()).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{cleaned}"'
