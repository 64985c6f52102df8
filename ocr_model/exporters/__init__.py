"""Exports of OCR results: plain text, layout text, JSON, hOCR and searchable PDF.

Every function takes `Predictions` (one page) or a sequence of them (a multi-page document)
and returns the file's content (str or bytes); nothing here touches the file system.

    from ocr_model.exporters import to_text, to_layout_text, to_json, to_hocr, to_searchable_pdf, PdfPage
    to_hocr([page1, page2], titles=["scan.pdf"])            # one XHTML document, one ocr_page per page
    to_searchable_pdf([PdfPage(jpeg_or_rgb, page1)])          # bytes of a PDF with an invisible text layer

`formats.FORMATS` is the one registry of export formats (suffix, media type, writer) and `formats.export_name`
the one naming rule, used by the app, the bulk command line and Ray.
"""

from __future__ import annotations

from .hocr import to_hocr
from .pdf import PdfPage, to_searchable_pdf
from .text import as_pages, to_json, to_layout_text, to_text

__all__ = ["PdfPage", "as_pages", "to_hocr", "to_json", "to_layout_text", "to_searchable_pdf", "to_text"]
