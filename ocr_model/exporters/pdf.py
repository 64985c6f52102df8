"""Searchable PDF: each page's image with an invisible text layer at the word boxes.

Written with pypdfium2 (PDFium's own page-object API: image objects, text objects in
render mode "invisible"), the library that also renders PDF input, so no second PDF
library is needed. Text uses the standard Helvetica font (not embedded): characters outside
its Windows-1252 set are written as their closest Latin letter or "?" (the hOCR, JSON and
text exports keep them as read).

For a page rendered from a PDF, the source page itself can be drawn instead of the image
(`PdfPage.source`): vector content at full quality, plus the text layer.

Each word is stretched onto its polygon (baseline direction, length and height), so
selecting or searching text in a viewer highlights the words where they are on the image.
"""

from __future__ import annotations

import ctypes
import io
import math
import unicodedata
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..types import Predictions

DEFAULT_DPI = 200.0  # page size of an image without one: its pixels at 200 dpi
JPEG_QUALITY = 85
MEASURE_FONT_SIZE = 10.0


@dataclass(frozen=True)
class PdfPage:
    """One page of a searchable PDF.

    `image`: the page as an RGB uint8 array or as JPEG bytes; any resolution (e.g. a
    display-size preview): it is stretched over the page. `predictions`: the OCR result
    whose polygons are in `predictions.image_size` pixels. `size_pt`: page (width, height)
    in PDF points; default: `image_size` at `dpi`. `source`: (PDF path or bytes, 0-based page
    index) of the PDF page the image was rendered from: that page itself (vector, full
    quality) is drawn instead of the image when it maps 1:1 onto the page (no /Rotate, crop
    box = media box at the origin, same size); otherwise the image is used.
    """

    image: np.ndarray | bytes | None
    predictions: Predictions
    size_pt: tuple[float, float] | None = None
    source: tuple[str | bytes, int] | None = None


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


def to_searchable_pdf(pages: PdfPage | Sequence[PdfPage], dpi: float = DEFAULT_DPI, upright: bool = True) -> bytes:
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
        sources: dict[int, object] = {}  # open source documents, by id of the path/bytes given
        try:
            font = raw.FPDFText_LoadStandardFont(document.raw, b"Helvetica")
            for page_spec in pages:
                _add_page(document, font, page_spec, dpi, upright, pdfium, raw, sources)
            buffer = io.BytesIO()
            document.save(buffer)
            return buffer.getvalue()
        finally:
            document.close()
            for source in sources.values():
                if source is not None:
                    source.close()


def _draw_source_page(document, page, spec: PdfPage, size_pt: tuple[float, float], pdfium, sources: dict) -> bool:
    """Draw the source PDF page itself (as a form XObject) when it maps 1:1 onto `page`."""
    if spec.source is None:
        return False
    data, index = spec.source
    key = id(data)
    if key not in sources:
        try:
            sources[key] = pdfium.PdfDocument(data if isinstance(data, (bytes, bytearray)) else str(data))
        except (pdfium.PdfiumError, OSError, TypeError):
            sources[key] = None
    source = sources[key]
    if source is None or not 0 <= index < len(source):
        return False
    try:
        source_page = source[index]
        try:
            media = tuple(source_page.get_mediabox())
            crop = tuple(source_page.get_cropbox())
            simple = (
                source_page.get_rotation() == 0
                and all(abs(a - b) < 0.01 for a, b in zip(media, crop))
                and abs(media[0]) < 0.01
                and abs(media[1]) < 0.01
                and abs(media[2] - size_pt[0]) < 0.5
                and abs(media[3] - size_pt[1]) < 0.5
            )
        finally:
            source_page.close()
        if not simple:
            return False
        xobject = source.page_as_xobject(index, document)
        page.insert_obj(xobject.as_pageobject())
        xobject.close()
        return True
    except pdfium.PdfiumError:
        return False


def _add_page(document, font, spec: PdfPage, dpi: float, upright: bool, pdfium, raw, sources: dict) -> None:
    predictions = spec.predictions
    height_px, width_px = (max(1, int(value)) for value in predictions.image_size)
    if spec.size_pt is not None:
        width_pt, height_pt = (float(value) for value in spec.size_pt)
    else:
        width_pt, height_pt = width_px * 72.0 / dpi, height_px * 72.0 / dpi
    page = document.new_page(width_pt, height_pt)
    try:
        if not _draw_source_page(document, page, spec, (width_pt, height_pt), pdfium, sources):
            if spec.image is None:
                raise ValueError("PdfPage needs an image when its source page cannot be drawn")
            image = pdfium.PdfImage.new(document)
            image.load_jpeg(io.BytesIO(_jpeg_bytes(spec.image)), pages=[page], inline=False)
            image.set_matrix(pdfium.PdfMatrix().scale(width_pt, height_pt))
            page.insert_obj(image)
        scale_x, scale_y = width_pt / width_px, height_pt / height_px

        def to_pt(points: np.ndarray) -> np.ndarray:
            points = np.asarray(points, dtype=np.float64).reshape(-1, 2)[:4]
            return np.stack([points[:, 0] * scale_x, height_pt - points[:, 1] * scale_y], axis=1)

        for index, (polygon, text) in enumerate(zip(predictions.polygons, predictions.texts)):
            words = predictions.line_words(index)
            items = [(word.polygon, word.text) for word in words] or [(polygon, text)]
            for word_polygon, word_text in items:
                if len(np.asarray(word_polygon).reshape(-1, 2)) >= 4 and word_text.strip():
                    _add_word(document, page, font, to_pt(word_polygon), pdf_text(word_text), raw)
        if upright and predictions.rotation:
            page.set_rotation(predictions.rotation)
        page.gen_content()
    finally:
        page.close()


def _add_word(document, page, font, quad: np.ndarray, text: str, raw) -> None:
    """An invisible text object whose glyph box is stretched onto `quad` (PDF points, the
    word's top-left, top-right, bottom-right, bottom-left as it reads)."""
    top_left, top_right, bottom_right, bottom_left = quad
    along = (top_right - top_left + bottom_right - bottom_left) / 2
    length = float(np.hypot(*along))
    if length < 1e-3:
        return
    unit = along / length
    up = np.array([-unit[1], unit[0]])  # PDF y points up
    height = float(abs(np.dot((top_left - bottom_left + top_right - bottom_right) / 2, up)))
    if height < 1e-3:
        return
    text_object = raw.FPDFPageObj_CreateTextObj(document.raw, font, ctypes.c_float(MEASURE_FONT_SIZE))
    encoded = ctypes.create_string_buffer((text + "\x00").encode("utf-16-le"))
    if not raw.FPDFText_SetText(text_object, ctypes.cast(encoded, ctypes.POINTER(raw.FPDF_WCHAR))):
        raw.FPDFPageObj_Destroy(text_object)
        return
    raw.FPDFTextObj_SetTextRenderMode(text_object, raw.FPDF_TEXTRENDERMODE_INVISIBLE)
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    raw.FPDFPageObj_GetBounds(text_object, left, bottom, right, top)
    # A trailing space (beyond the word's box) so text extraction separates the words.
    spaced = ctypes.create_string_buffer((text + " \x00").encode("utf-16-le"))
    raw.FPDFText_SetText(text_object, ctypes.cast(spaced, ctypes.POINTER(raw.FPDF_WCHAR)))
    glyph_width, glyph_height = right.value - left.value, top.value - bottom.value
    if glyph_width <= 0 or glyph_height <= 0 or not all(map(math.isfinite, (glyph_width, glyph_height))):
        raw.FPDFPageObj_Destroy(text_object)
        return
    # text space -> page: x along the baseline (stretched to the word's length), y up (its height)
    x_axis, y_axis = unit * (length / glyph_width), up * (height / glyph_height)
    origin = bottom_left - x_axis * left.value - y_axis * bottom.value
    raw.FPDFPageObj_Transform(
        text_object, float(x_axis[0]), float(x_axis[1]), float(y_axis[0]), float(y_axis[1]), float(origin[0]), float(origin[1])
    )
    raw.FPDFPage_InsertObject(page.raw, text_object)
