"""Searchable PDF: each page's image with an invisible text layer at the word boxes.

Written with pypdfium2 (PDFium's own page-object API: image objects, text objects in
render mode "invisible"), the library that also renders PDF input, so no second PDF
library is needed. Text uses the standard Helvetica font (not embedded): characters outside
its Windows-1252 set are written as their closest Latin letter or "?" (the hOCR, JSON and
text exports keep them as read).

The visible layer is always an image the caller already has, never a page loaded from a source PDF:
loading a PDF page makes PDFium parse its content here, outside the renderer process's time and memory
limits (issue 14: a page inflating to 300 MiB, rendered in 6 s within the limits there, then took 19 s
and +600 MB in the server when its export imported it), and would copy the sender's content streams into
the file users download.

The text layer is written the way OCRmyPDF writes its own, so that it copies cleanly in
poppler (pdftotext, Evince), PDFium and content-order extractors: each line has one baseline
along its polygon and one font size, chosen so the font's ascent-to-descent height is the
line's height (no taller, so lines never reach into each other); each word's glyph run is
scaled horizontally to its box width exactly (no overlap with the next word), followed by a
real space character; lines in reading order, each its
own text line. Extractors that join characters by geometry (poppler) then see a gap between
words and none inside them; those that read the content stream (PDFium, pypdf) see the spaces.
"""

from __future__ import annotations

import ctypes
import io
import math
import unicodedata
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..config import PAGE_DPI
from ..types import Predictions

JPEG_QUALITY = 85
# Helvetica's ascender and descender (Adobe's AFM, in 1/1000 em), the metrics poppler and most
# viewers use for a text box's height: the font size is chosen so that this span is the line's.
ASCENT = 0.718
DESCENT = -0.207
# Smallest gap kept between two words' runs, in em: poppler's raw (content-order) mode writes a
# space only above 0.15 em, and runs that touched or overlapped were what made every poppler mode
# merge "led" and "by".
MIN_WORD_GAP_EM = 0.25
# Lines within this many degrees of an axis are written along the axis: poppler cuts tilted text
# into fragments wherever the baseline has moved half a point ("durin" / "g the"). A line whose
# ends drift apart by at most half its height across that axis keeps one baseline (poppler reads
# it as one line); a longer or steeper one puts each word on its own baseline through the word's
# centre, so the words stay whole and their boxes on them (poppler may then cut the line).
SNAP_DEGREES = 12.0
MAX_DRIFT_OF_HEIGHT = 0.5


@dataclass(frozen=True)
class GlyphRun:
    """One run of invisible text: `text` starts at `origin` (PDF points) on a baseline along
    `direction` (unit vector), at `font_size`, stretched horizontally by `scale` (PDF `Tz` / 100)."""

    text: str
    origin: tuple[float, float]
    direction: tuple[float, float]
    font_size: float
    scale: float


@dataclass(frozen=True)
class PdfPage:
    """One page of a searchable PDF.

    `image`: the page as an RGB uint8 array or as JPEG bytes; any resolution (e.g. a
    display-size preview): it is stretched over the page. `predictions`: the OCR result
    whose polygons are in `predictions.image_size` pixels. `size_pt`: page (width, height)
    in PDF points; default: `image_size` at `dpi`.
    """

    image: np.ndarray | bytes
    predictions: Predictions
    size_pt: tuple[float, float] | None = None


def pdf_text(text: str) -> str:
    """`text` limited to what the standard font can encode (Windows-1252)."""
    out = []
    for char in text:
        try:
            char.encode("cp1252")
            out.append(char)
            continue
        except UnicodeEncodeError:
            pass
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        try:
            base.encode("cp1252")
            out.append(base or "?")
        except UnicodeEncodeError:
            out.append("?")
    return "".join(out)


def _jpeg_bytes(image: np.ndarray | bytes) -> bytes:
    if isinstance(image, (bytes, bytearray)):
        if not bytes(image[:3]) == b"\xff\xd8\xff":
            raise ValueError("PdfPage.image bytes must be a JPEG file")
        return bytes(image)
    from PIL import Image

    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise ValueError(f"PdfPage.image must be an RGB uint8 array or JPEG bytes, got {array.dtype} {array.shape}")
    buffer = io.BytesIO()
    Image.fromarray(array).convert("RGB").save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def to_searchable_pdf(pages: PdfPage | Sequence[PdfPage], dpi: float = PAGE_DPI, upright: bool = True) -> bytes:
    """The bytes of a PDF with one page per `PdfPage`: its image, and the recognized words as
    invisible text at their boxes. With `upright`, a page the engine read turned
    (`Predictions.rotation`) is shown turned the same way (the page's /Rotate), so it displays
    upright; the image and text stay as they are in the page's own coordinates."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    from ..inputs.pdf_pages import PDFIUM_LOCK

    pages = [pages] if isinstance(pages, PdfPage) else list(pages)
    if not pages:
        raise ValueError("to_searchable_pdf needs at least one page")
    with PDFIUM_LOCK:  # PDFium is not thread-safe
        document = pdfium.PdfDocument.new()
        try:
            font = raw.FPDFText_LoadStandardFont(document.raw, b"Helvetica")
            for page_spec in pages:
                _add_page(document, font, page_spec, dpi, upright, pdfium, raw)
            buffer = io.BytesIO()
            document.save(buffer)
            return buffer.getvalue()
        finally:
            document.close()


def line_runs(
    line_polygon: np.ndarray,
    words: Sequence[tuple[np.ndarray, str]],
    advance: Callable[[str], float],
) -> list[GlyphRun]:
    """The glyph runs of one line: each word scaled to its box, followed by a space (but the last).

    `line_polygon` and each word's polygon are in PDF points (y up), clockwise from the
    top-left as the text reads (K >= 4 points); `advance(text)` is the text's width at font
    size 1. The line's direction and text height come from its polygon (snapped to the nearest
    axis when within `SNAP_DEGREES`); a word's start and end are its polygon's extent along
    that direction. Pass the whole line as one "word" when the engine gave no word boxes: it is
    split at its spaces in proportion to the words' widths."""
    points = np.asarray(line_polygon, dtype=np.float64).reshape(-1, 2)
    if len(points) < 4 or not np.all(np.isfinite(points)):
        return []
    half = len(points) // 2
    along = (points[half - 1] - points[0]) + (points[half] - points[-1])  # top edge + bottom edge
    length = float(np.hypot(*along))
    if length < 1e-6:
        return []
    unit = along / length
    heights = points @ np.array([-unit[1], unit[0]])  # PDF y points up: the text's top is on this side
    text_height = float(heights.max() - heights.min())
    font_size = text_height / (ASCENT - DESCENT)
    if font_size < 1e-3:
        return []
    angle = math.degrees(math.atan2(unit[1], unit[0]))
    axis = round(angle / 90.0) * 90.0
    snapped = abs(angle - axis) <= SNAP_DEGREES
    per_word = snapped and length / 2 * abs(math.sin(math.radians(angle - axis))) > MAX_DRIFT_OF_HEIGHT * text_height
    if snapped:
        unit = np.array([round(math.cos(math.radians(axis))), round(math.sin(math.radians(axis)))], dtype=np.float64)
    up = np.array([-unit[1], unit[0]])
    line_middle = float((points @ up).min() + (points @ up).max()) / 2

    spans = []  # [start, end, middle across, text] per word
    for polygon, text in _split_unboxed(points, words, advance):
        word_points = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
        if not text.strip() or len(word_points) == 0 or not np.all(np.isfinite(word_points)):
            continue
        along_word, across = word_points @ unit, word_points @ up
        middle = float(across.min() + across.max()) / 2 if per_word else line_middle
        spans.append([float(along_word.min()), float(along_word.max()), middle, text.strip()])
    gap = MIN_WORD_GAP_EM * font_size
    for left, right in zip(spans, spans[1:]):
        if right[0] >= left[0] and right[0] < left[1] + gap:  # touching or overlapping: split the overlap
            middle = (left[1] + right[0]) / 2
            left[1] = max(left[0] + gap, middle - gap / 2)
            right[0] = max(right[0], left[1] + gap)
            right[1] = max(right[1], right[0] + gap)

    runs = []
    for index, (start, end, middle, text) in enumerate(spans):
        width = advance(text) * font_size
        if width <= 0 or end - start <= 0:
            continue
        baseline = middle - text_height / 2 - DESCENT * font_size
        origin = start * unit + baseline * up
        # The space after a word (not after the line's last) goes in the word's own run: PDFium's
        # extractor ignores a run that is only a space, and poppler places words by their glyphs,
        # not by spaces, so the space's advance past the box does not join the words there.
        spaced = text + " " if index + 1 < len(spans) else text
        runs.append(GlyphRun(spaced, (float(origin[0]), float(origin[1])), (float(unit[0]), float(unit[1])), font_size, (end - start) / width))
    return runs


def _split_unboxed(
    line_points: np.ndarray, words: Sequence[tuple[np.ndarray, str]], advance: Callable[[str], float]
) -> list[tuple[np.ndarray, str]]:
    """`words` as given; a single item holding several words (a line without word boxes) is
    cut along its polygon in proportion to each word's width and the spaces between them."""
    if len(words) != 1 or len(words[0][1].split()) < 2:
        return list(words)
    polygon, text = words[0]
    quad = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    if len(quad) != 4:
        return list(words)
    pieces = text.split()
    widths = [advance(piece) for piece in pieces]
    space = advance(" ")
    total = sum(widths) + space * (len(pieces) - 1)
    if total <= 0:
        return list(words)
    top_left, top_right, bottom_right, bottom_left = quad
    out, position = [], 0.0
    for piece, width in zip(pieces, widths):
        a, b = position / total, (position + width) / total
        top_a, top_b = top_left + (top_right - top_left) * a, top_left + (top_right - top_left) * b
        bottom_a, bottom_b = bottom_left + (bottom_right - bottom_left) * a, bottom_left + (bottom_right - bottom_left) * b
        out.append((np.array([top_a, top_b, bottom_b, bottom_a]), piece))
        position += width + space
    return out


def _add_page(document, font, spec: PdfPage, dpi: float, upright: bool, pdfium, raw) -> None:
    predictions = spec.predictions
    height_px, width_px = (max(1, int(value)) for value in predictions.image_size)
    if spec.size_pt is not None:
        width_pt, height_pt = (float(value) for value in spec.size_pt)
    else:
        width_pt, height_pt = width_px * 72.0 / dpi, height_px * 72.0 / dpi
    page = document.new_page(width_pt, height_pt)
    try:
        if spec.image is None:
            raise ValueError("PdfPage needs an image")
        image = pdfium.PdfImage.new(document)
        image.load_jpeg(io.BytesIO(_jpeg_bytes(spec.image)), pages=[page], inline=False)
        image.set_matrix(pdfium.PdfMatrix().scale(width_pt, height_pt))
        page.insert_obj(image)
        scale_x, scale_y = width_pt / width_px, height_pt / height_px

        def to_pt(points: np.ndarray) -> np.ndarray:
            points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
            return np.stack([points[:, 0] * scale_x, height_pt - points[:, 1] * scale_y], axis=1)

        advance = _advance_function(font, raw)
        for index, (polygon, text) in enumerate(zip(predictions.polygons, predictions.texts)):
            words = predictions.line_words(index)
            items = [(to_pt(word.polygon), pdf_text(word.text)) for word in words] or [(to_pt(polygon), pdf_text(text))]
            for glyph_run in line_runs(to_pt(polygon), items, advance):
                _add_run(document, page, font, glyph_run, raw)
        if upright and predictions.rotation:
            page.set_rotation(predictions.rotation)
        page.gen_content()
    finally:
        page.close()


def _advance_function(font, raw) -> Callable[[str], float]:
    """Text width at font size 1 in the standard font (PDFium's metrics, Helvetica's widths)."""
    widths: dict[str, float] = {}

    def width_of(char: str) -> float:
        if char not in widths:
            value = ctypes.c_float()
            found = raw.FPDFFont_GetGlyphWidth(font, ord(char), ctypes.c_float(1.0), ctypes.byref(value))
            widths[char] = float(value.value) if found and math.isfinite(value.value) and value.value > 0 else 0.5
        return widths[char]

    return lambda text: sum(width_of(char) for char in text)


def _add_run(document, page, font, glyph_run: GlyphRun, raw) -> None:
    """An invisible text object for `glyph_run`: font size, then the matrix that scales the
    run horizontally (what `Tz` does) and turns it onto its baseline."""
    text_object = raw.FPDFPageObj_CreateTextObj(document.raw, font, ctypes.c_float(glyph_run.font_size))
    encoded = ctypes.create_string_buffer((glyph_run.text + "\x00").encode("utf-16-le"))
    if not raw.FPDFText_SetText(text_object, ctypes.cast(encoded, ctypes.POINTER(raw.FPDF_WCHAR))):
        raw.FPDFPageObj_Destroy(text_object)
        return
    raw.FPDFTextObj_SetTextRenderMode(text_object, raw.FPDF_TEXTRENDERMODE_INVISIBLE)
    (unit_x, unit_y), (origin_x, origin_y), scale = glyph_run.direction, glyph_run.origin, glyph_run.scale
    raw.FPDFPageObj_Transform(text_object, unit_x * scale, unit_y * scale, -unit_y, unit_x, origin_x, origin_y)
    raw.FPDFPage_InsertObject(page.raw, text_object)
